/**
 * The replication run store on the meta store's SQLite database (migration 18,
 * replication-schema.ts). A start runs in an IMMEDIATE transaction: it holds the database's write
 * lock from BEGIN, so two processes on the file (a serving berth and `berth replicate`, say) cannot
 * both see no running run of a rule and both start one. Progress is committed relaxed (a power cut
 * may lose the last counts, never a run); starts and ends with synchronous=FULL.
 */
import type Database from 'better-sqlite3';
import type { ReplicationRun, ReplicationStore, RunCounts, RunFailure, RunStatus, RunTrigger } from '../../replication/model.ts';
import { EMPTY_COUNTS } from '../../replication/model.ts';
import { countsJson, failuresJson, interruptedFailures, RUN_COLUMNS, toRun, type RunRow } from '../rows/replication.ts';
import { relaxed } from './relaxed.ts';

type OrphanRow = Pick<RunRow, 'id' | 'failures' | 'scope'>;
/** RUN_COLUMNS of `r` (json_each has an id too). */
const R_COLUMNS = RUN_COLUMNS.split(', ').map((c) => `r.${c}`).join(', ');

function prepare(db: Database.Database) {
  return {
    // the partial index replication_runs_running: a rule's running runs, not its history
    orphans: db.prepare<[string, number], OrphanRow>(`SELECT id, failures, scope FROM replication_runs WHERE rule = ? AND status = 'running' AND lease_until < ?`),
    interrupt: db.prepare<[string, number, number]>(`UPDATE replication_runs SET status = 'failed', failures = ?, finished_at = ?, lease_until = NULL WHERE id = ?`),
    holding: db.prepare<[string], { id: number }>(`SELECT id FROM replication_runs WHERE rule = ? AND status = 'running' AND scope IS NULL LIMIT 1`),
    insert: db.prepare<[string, string, string, string, string | null, number, string, number], RunRow>(
      `INSERT INTO replication_runs (rule, trigger_kind, status, counts, failures, scope, started_at, node, lease_until)
       VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?) RETURNING ${RUN_COLUMNS}`,
    ),
    progress: db.prepare<[string, string, number, number, string]>(
      `UPDATE replication_runs SET counts = ?, failures = ?, lease_until = ? WHERE id = ? AND node = ? AND status = 'running'`,
    ),
    finish: db.prepare<[string, string, string, number, number, string]>(
      `UPDATE replication_runs SET status = ?, counts = ?, failures = ?, finished_at = ?, lease_until = NULL WHERE id = ? AND node = ? AND status = 'running'`,
    ),
    get: db.prepare<[number], RunRow>(`SELECT ${RUN_COLUMNS} FROM replication_runs WHERE id = ?`),
    list: db.prepare<[string, number, number], RunRow>(`SELECT ${RUN_COLUMNS} FROM replication_runs WHERE rule = ? AND id < ? ORDER BY id DESC LIMIT ?`),
    // the keep+1-th newest run's id, on (rule, id); the ended runs below it go
    prune: db.prepare<[string, string, number]>(
      `DELETE FROM replication_runs WHERE rule = ? AND status != 'running'
        AND id <= (SELECT id FROM replication_runs WHERE rule = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
    ),
    // one index seek per name (a GROUP BY rule would read every run of every rule named)
    latest: db.prepare<[string], RunRow>(
      `SELECT ${R_COLUMNS} FROM json_each(?) n JOIN replication_runs r
        ON r.id = (SELECT id FROM replication_runs WHERE rule = n.value ORDER BY id DESC LIMIT 1)`,
    ),
  };
}

export class SqliteReplicationStore implements ReplicationStore {
  private readonly st: ReturnType<typeof prepare>;

  /** `db` is the meta store's connection (SqliteMetaStore.database), already migrated. */
  constructor(private readonly db: Database.Database) {
    this.st = prepare(db);
  }

  async start(run: { rule: string; trigger: RunTrigger; scope: string | null; node: string }, now: number, leaseUntil: number): Promise<ReplicationRun | undefined> {
    const start = this.db.transaction((): RunRow | undefined => {
      for (const orphan of this.st.orphans.all(run.rule, now)) this.st.interrupt.run(interruptedFailures(orphan), now, orphan.id);
      if (run.scope === null && this.st.holding.get(run.rule) !== undefined) return undefined;
      const row = this.st.insert.get(run.rule, run.trigger, countsJson(EMPTY_COUNTS), '[]', run.scope, now, run.node, leaseUntil);
      if (row === undefined) throw new Error('replication: INSERT returned no row');
      return row;
    });
    const row = start.immediate();
    return row === undefined ? undefined : toRun(row);
  }

  async progress(id: number, node: string, counts: RunCounts, failures: RunFailure[], leaseUntil: number): Promise<boolean> {
    return relaxed(this.db, () => this.st.progress.run(countsJson(counts), failuresJson(failures), leaseUntil, id, node).changes > 0);
  }

  async finish(id: number, node: string, status: Exclude<RunStatus, 'running'>, counts: RunCounts, failures: RunFailure[], now: number): Promise<boolean> {
    return this.st.finish.run(status, countsJson(counts), failuresJson(failures), now, id, node).changes > 0;
  }

  async get(id: number): Promise<ReplicationRun | undefined> {
    const row = this.st.get.get(id);
    return row === undefined ? undefined : toRun(row);
  }

  async list(rule: string, opts: { limit?: number; before?: number } = {}): Promise<ReplicationRun[]> {
    return this.st.list.all(rule, opts.before ?? Number.MAX_SAFE_INTEGER, opts.limit ?? 50).map(toRun);
  }

  async prune(rule: string, keep: number): Promise<number> {
    return this.st.prune.run(rule, rule, keep).changes;
  }

  async latest(rules: readonly string[]): Promise<Map<string, ReplicationRun>> {
    const out = new Map<string, ReplicationRun>();
    if (rules.length === 0) return out;
    for (const row of this.st.latest.all(JSON.stringify(rules))) out.set(row.rule, toRun(row));
    return out;
  }
}
