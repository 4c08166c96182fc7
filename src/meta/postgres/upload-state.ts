/**
 * PgUploadStateStore: the UploadStateStore on PostgreSQL (table upload_state, one row per
 * session, deleted with the session's `uploads` row). Holds are taken and checked in single
 * statements (INSERT ... ON CONFLICT DO UPDATE ... WHERE, UPDATE ... WHERE holder AND size), so
 * two nodes racing for a session never both hold it; lease times are the database's clock, so
 * the nodes' clocks need not agree.
 */
import type { SavedUploadState, UploadClaim, UploadStateStore } from '../upload-state.ts';
import type { PgDatabase } from './database.ts';

/** Milliseconds since the epoch on the database's clock (advancing within a transaction). */
const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

interface StateRow {
  size: number;
  hash_state: Buffer | null;
}

/** PostgreSQL's foreign_key_violation: the session's `uploads` row is gone. */
function isForeignKeyViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23503';
}

function saved(row: StateRow): SavedUploadState {
  return { size: row.size, hashState: row.hash_state === null ? undefined : new Uint8Array(row.hash_state) };
}

export class PgUploadStateStore implements UploadStateStore {
  constructor(private readonly db: PgDatabase) {}

  async claim(id: string, holder: string, leaseMs: number): Promise<UploadClaim> {
    let row: StateRow | undefined;
    try {
      row = await this.db.one<StateRow>(
        `INSERT INTO upload_state (id, size, hash_state, holder, held_until, updated_at)
         VALUES ($1, 0, NULL, $2, ${NOW_MS} + $3, ${NOW_MS})
         ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, held_until = EXCLUDED.held_until
           WHERE upload_state.holder IS NULL OR upload_state.held_until < ${NOW_MS}
         RETURNING size, hash_state`,
        [id, holder, leaseMs],
      );
    } catch (err) {
      if (isForeignKeyViolation(err)) return { kind: 'unknown' };
      throw err;
    }
    if (row !== undefined) return { kind: 'held', saved: saved(row) };
    const other = await this.db.one<{ size: number }>('SELECT size FROM upload_state WHERE id = $1', [id]);
    return other === undefined ? { kind: 'unknown' } : { kind: 'busy', size: other.size };
  }

  async renew(id: string, holder: string, leaseMs: number): Promise<boolean> {
    const result = await this.db.query(`UPDATE upload_state SET held_until = ${NOW_MS} + $3 WHERE id = $1 AND holder = $2`, [id, holder, leaseMs]);
    return result.rowCount === 1;
  }

  async save(id: string, holder: string, from: number, state: SavedUploadState, release: boolean): Promise<boolean> {
    const result = await this.db.query(
      `UPDATE upload_state SET size = $4, hash_state = $5, updated_at = ${NOW_MS},
         holder = CASE WHEN $6::boolean THEN NULL ELSE holder END,
         held_until = CASE WHEN $6::boolean THEN NULL ELSE held_until END
       WHERE id = $1 AND holder = $2 AND size = $3`,
      [id, holder, from, state.size, state.hashState === undefined ? null : Buffer.from(state.hashState), release],
    );
    return result.rowCount === 1;
  }

  async release(id: string, holder: string): Promise<void> {
    await this.db.query('UPDATE upload_state SET holder = NULL, held_until = NULL WHERE id = $1 AND holder = $2', [id, holder]);
  }

  async get(id: string): Promise<SavedUploadState | undefined> {
    const row = await this.db.one<StateRow>('SELECT size, hash_state FROM upload_state WHERE id = $1', [id]);
    return row === undefined ? undefined : saved(row);
  }

  async delete(id: string): Promise<void> {
    await this.db.query('DELETE FROM upload_state WHERE id = $1', [id]);
  }
}
