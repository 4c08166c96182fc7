/**
 * The key that seals build rules' secrets (secrets/secret-box.ts), in PostgreSQL (table
 * sealing_keys), so that every node opens what any node sealed. The first node to need it inserts
 * one; ON CONFLICT DO NOTHING makes nodes starting at once agree on the first.
 */
import { newSealingKey, type SealingKeySource } from '../../secrets/secret-box.ts';
import type { PgDatabase } from './database.ts';

export const BUILDS_SEALING_KEY = 'builds';

export class PgSealingKey implements SealingKeySource {
  constructor(
    private readonly db: PgDatabase,
    private readonly name = BUILDS_SEALING_KEY,
  ) {}

  async key(): Promise<Buffer> {
    await this.db.query('INSERT INTO sealing_keys (name, key, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [
      this.name,
      newSealingKey().toString('base64url'),
      Date.now(),
    ]);
    return this.stored(this.name) as Promise<Buffer>;
  }

  /** The stored key, undefined when none yet (`berth migrate` adds the source's only then). */
  async stored(name = this.name): Promise<Buffer | undefined> {
    const row = await this.db.one<{ key: string }>('SELECT key FROM sealing_keys WHERE name = $1', [name]);
    return row === undefined ? undefined : Buffer.from(row.key, 'base64url');
  }

  /** Add `key` unless one is there; returns whether it was added. */
  async adopt(key: Buffer): Promise<boolean> {
    const res = await this.db.query('INSERT INTO sealing_keys (name, key, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [
      this.name,
      key.toString('base64url'),
      Date.now(),
    ]);
    return (res.rowCount ?? 0) > 0;
  }
}
