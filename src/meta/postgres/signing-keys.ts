/**
 * The token signing keys in PostgreSQL (table signing_keys), so that a token issued by one node
 * verifies on every other and `berth auth rotate-key` reaches them all. The version every node
 * polls (at most once a second, auth/keys.ts) is a digest of the key ids: one small query.
 */
import type { SigningKeySource, StoredKey } from '../../auth/keys.ts';
import type { PgDatabase } from './database.ts';

export class PgSigningKeys implements SigningKeySource {
  constructor(private readonly db: PgDatabase) {}

  async version(): Promise<string> {
    const row = await this.db.one<{ v: string | null }>("SELECT md5(string_agg(id, ',' ORDER BY id)) AS v FROM signing_keys");
    return row?.v ?? '';
  }

  async read(onBad: (name: string, err: Error) => void): Promise<StoredKey[]> {
    const rows = await this.db.rows<{ id: string; private_jwk: string; created_at: number }>('SELECT id, private_jwk, created_at FROM signing_keys');
    const keys: StoredKey[] = [];
    for (const r of rows) {
      try {
        keys.push({ createdAt: r.created_at, jwk: JSON.parse(r.private_jwk) as StoredKey['jwk'] });
      } catch (err) {
        onBad(r.id, err as Error);
      }
    }
    return keys;
  }

  async add(kid: string, key: StoredKey): Promise<void> {
    await this.db.query('INSERT INTO signing_keys (id, private_jwk, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING', [kid, JSON.stringify(key.jwk), key.createdAt]);
  }

  async remove(kids: readonly string[]): Promise<void> {
    if (kids.length > 0) await this.db.query('DELETE FROM signing_keys WHERE id = ANY($1::text[])', [kids]);
  }
}
