/**
 * The replication run store on PostgreSQL (schema/replication.ts), the twin of
 * sqlite/replication-store.ts, for several nodes that may each start a rule's runs.
 *
 * A start runs under a transaction-scoped advisory lock per rule name: rules live in the config,
 * so before a rule's first run there is no row a SELECT ... FOR UPDATE could lock, and two nodes
 * would both read "nothing running" and both insert. With the lock the second waits for the
 * first's commit, then sees its run. Runs of other rules take other locks and never wait.
 */
import type { ReplicationRun, ReplicationStore, RunCounts, RunFailure, RunStatus, RunTrigger } from '../../replication/model.ts';
import { EMPTY_COUNTS } from '../../replication/model.ts';
import { countsJson, failuresJson, interruptedFailures, RUN_COLUMNS, toRun, type RunRow } from '../rows/replication.ts';
import type { PgDatabase } from './database.ts';

/** The advisory lock's first key for starts ("repl"); the second is the rule's hash. */
const START_LOCK = 0x7265706c;

const SQL = {
  lock: 'SELECT pg_advisory_xact_lock($1, hashtext($2))',
  // the partial index replication_runs_running: a rule's running runs, not its history
  orphans: `SELECT id, failures, scope FROM replication_runs WHERE rule = $1 AND status = 'running' AND lease_until < $2`,
  interrupt: `UPDATE replication_runs SET status = 'failed', failures = $1, finished_at = $2, lease_until = NULL WHERE id = $3`,
  holding: `SELECT id FROM replication_runs WHERE rule = $1 AND status = 'running' AND scope IS NULL LIMIT 1`,
  insert: `INSERT INTO replication_runs (rule, trigger_kind, status, counts, failures, scope, started_at, node, lease_until)
           VALUES ($1, $2, 'running', $3, $4, $5, $6, $7, $8) RETURNING ${RUN_COLUMNS}`,
  progress: `UPDATE replication_runs SET counts = $1, failures = $2, lease_until = $3 WHERE id = $4 AND node = $5 AND status = 'running'`,
  finish: `UPDATE replication_runs SET status = $1, counts = $2, failures = $3, finished_at = $4, lease_until = NULL
           WHERE id = $5 AND node = $6 AND status = 'running'`,
  get: `SELECT ${RUN_COLUMNS} FROM replication_runs WHERE id = $1`,
  // `list` and `latest` bound (rule, id) as rows and order by both: only replication_runs_rule gives
  // that order. With `rule = $1 ORDER BY id DESC` the planner walks the primary key backwards
  // filtering on rule whenever it guesses the rule's runs spread evenly over time, which reads the
  // whole history when they do not (a rule that last ran long ago: measured, EXPLAIN, 100k runs).
  list: `SELECT ${RUN_COLUMNS} FROM replication_runs WHERE (rule, id) < ($1, $2) AND (rule, id) >= ($1, 0)
         ORDER BY rule DESC, id DESC LIMIT $3`,
  // the keep+1-th newest run's id, walking (rule, id) backwards; the ended runs below it go
  prune: `DELETE FROM replication_runs WHERE rule = $1 AND status != 'running'
          AND id <= (SELECT id FROM replication_runs WHERE (rule, id) <= ($1, 9223372036854775807) AND rule = $1
                     ORDER BY rule DESC, id DESC LIMIT 1 OFFSET $2)`,
  // one index step per name, to its newest run, if any (a GROUP BY would read every run of every rule named)
  latest: `SELECT r.* FROM unnest($1::text[]) AS n(rule)
           CROSS JOIN LATERAL (SELECT ${RUN_COLUMNS} FROM replication_runs WHERE (rule, id) <= (n.rule, 9223372036854775807)
                               ORDER BY rule DESC, id DESC LIMIT 1) r
           WHERE r.rule = n.rule`,
};

export class PgReplicationStore implements ReplicationStore {
  constructor(private readonly db: PgDatabase) {}

  async start(run: { rule: string; trigger: RunTrigger; scope: string | null; node: string }, now: number, leaseUntil: number): Promise<ReplicationRun | undefined> {
    const row = await this.db.transaction(async (tx) => {
      await tx.query(SQL.lock, [START_LOCK, run.rule]);
      for (const orphan of await this.db.rows<Pick<RunRow, 'id' | 'failures' | 'scope'>>(SQL.orphans, [run.rule, now], tx)) {
        await tx.query(SQL.interrupt, [interruptedFailures(orphan), now, orphan.id]);
      }
      if (run.scope === null && (await this.db.one(SQL.holding, [run.rule], tx)) !== undefined) return undefined;
      const [inserted] = await this.db.rows<RunRow>(SQL.insert, [run.rule, run.trigger, countsJson(EMPTY_COUNTS), '[]', run.scope, now, run.node, leaseUntil], tx);
      if (inserted === undefined) throw new Error('replication: INSERT returned no row');
      return inserted;
    });
    return row === undefined ? undefined : toRun(row);
  }

  async progress(id: number, node: string, counts: RunCounts, failures: RunFailure[], leaseUntil: number): Promise<boolean> {
    return ((await this.db.query(SQL.progress, [countsJson(counts), failuresJson(failures), leaseUntil, id, node])).rowCount ?? 0) > 0;
  }

  async finish(id: number, node: string, status: Exclude<RunStatus, 'running'>, counts: RunCounts, failures: RunFailure[], now: number): Promise<boolean> {
    return ((await this.db.query(SQL.finish, [status, countsJson(counts), failuresJson(failures), now, id, node])).rowCount ?? 0) > 0;
  }

  async get(id: number): Promise<ReplicationRun | undefined> {
    const row = await this.db.one<RunRow>(SQL.get, [id]);
    return row === undefined ? undefined : toRun(row);
  }

  async list(rule: string, opts: { limit?: number; before?: number } = {}): Promise<ReplicationRun[]> {
    return (await this.db.rows<RunRow>(SQL.list, [rule, opts.before ?? Number.MAX_SAFE_INTEGER, opts.limit ?? 50])).map(toRun);
  }

  async prune(rule: string, keep: number): Promise<number> {
    return (await this.db.query(SQL.prune, [rule, keep])).rowCount ?? 0;
  }

  async latest(rules: readonly string[]): Promise<Map<string, ReplicationRun>> {
    const out = new Map<string, ReplicationRun>();
    if (rules.length === 0) return out;
    for (const row of await this.db.rows<RunRow>(SQL.latest, [rules])) out.set(row.rule, toRun(row));
    return out;
  }
}
