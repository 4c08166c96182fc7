/**
 * PgLoginFailures: the login throttle's FailureCounts (auth/failure-store.ts) in PostgreSQL
 * (table login_failures, schema/login-failures.ts), shared by every node of a cluster so that a
 * guesser gets one allowance, not one per node, and a lock holds on every node.
 *
 * Keys are stored as their sha256 hex: they hold user names and addresses, which may be long or
 * hold NUL (PostgreSQL text cannot), and only ever need to be matched. A failure is one upsert of
 * every key it counts for (ON CONFLICT ... DO UPDATE: atomic per row, however many nodes count at
 * once; rows taken in key order, so two failures never deadlock); admitting a login is one read.
 * Times are the throttle's clock (the nodes' clocks, which should agree to well under a lock).
 * Dead rows (last failure past the window) are deleted in bounded batches, at most once a
 * minute per node, after a failure: the table holds at most the window's failures.
 */
import { createHash } from 'node:crypto';
import type { FailureCounts, Failures } from '../../auth/failure-store.ts';
import type { PgDatabase } from './database.ts';

export interface PgLoginFailuresOptions {
  /** How often (ms, the throttle's clock) a node deletes dead rows at most. */
  pruneEveryMs?: number;
  /** Rows deleted at most per prune. */
  pruneBatch?: number;
}

interface Row {
  key: string;
  failures: number;
  last_at: number;
}

/** The row key of a throttle key: sha256 hex (64 characters whatever the user name holds). */
export function failureKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export class PgLoginFailures implements FailureCounts {
  private readonly pruneEveryMs: number;
  private readonly pruneBatch: number;
  private nextPrune = 0;

  constructor(
    private readonly db: PgDatabase,
    options: PgLoginFailuresOptions = {},
  ) {
    this.pruneEveryMs = options.pruneEveryMs ?? 60_000;
    this.pruneBatch = options.pruneBatch ?? 10_000;
  }

  async read(keys: readonly string[], since: number): Promise<ReadonlyMap<string, Failures>> {
    const found = new Map<string, Failures>();
    if (keys.length === 0) return found;
    const byRow = new Map(keys.map((key) => [failureKey(key), key]));
    const rows = await this.db.rows<Row>('SELECT key, failures, last_at FROM login_failures WHERE key = ANY($1::text[]) AND last_at > $2::bigint', [[...byRow.keys()], since]);
    for (const row of rows) {
      const key = byRow.get(row.key);
      if (key !== undefined) found.set(key, { failures: row.failures, lastAt: row.last_at });
    }
    return found;
  }

  async record(keys: readonly string[], now: number, since: number): Promise<void> {
    if (keys.length === 0) return;
    const rows = [...new Set(keys.map(failureKey))].sort();
    await this.db.query(
      `INSERT INTO login_failures AS f (key, failures, last_at)
       SELECT k, 1, $2::bigint FROM unnest($1::text[]) AS k ORDER BY k
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN f.last_at > $3::bigint THEN f.failures + 1 ELSE 1 END,
         last_at = CASE WHEN f.last_at > $3::bigint THEN GREATEST(f.last_at, EXCLUDED.last_at) ELSE EXCLUDED.last_at END`,
      [rows, now, since],
    );
    if (now >= this.nextPrune) {
      this.nextPrune = now + this.pruneEveryMs;
      await this.prune(since);
    }
  }

  async clear(key: string): Promise<void> {
    await this.db.query('DELETE FROM login_failures WHERE key = $1', [failureKey(key)]);
  }

  /** Delete up to pruneBatch rows whose last failure is at or before `since`; how many it deleted. */
  async prune(since: number): Promise<number> {
    const result = await this.db.query(
      'DELETE FROM login_failures WHERE key IN (SELECT key FROM login_failures WHERE last_at <= $1::bigint ORDER BY last_at LIMIT $2)',
      [since, this.pruneBatch],
    );
    return result.rowCount ?? 0;
  }
}
