/**
 * The build store on PostgreSQL (schema/builds.ts), the twin of sqlite/build-store.ts, for several
 * nodes each running builds from one queue. A claim takes the oldest queued build with FOR UPDATE
 * SKIP LOCKED, so two nodes claiming at once take two different builds; builds left running by a
 * node whose lease ran out are queued again (or given up) in the same transaction.
 */
import type { Build, BuildStore, LogChunk, NewBuild, Renewal, StoredBuildRule } from '../../builds/model.ts';
import { BUILD_COLUMNS, INTERRUPTED, MAX_BUILD_ATTEMPTS, MAX_ERROR_CHARS, queueFull, RULE_COLUMNS, sameBuild, ruleValues, toBuild, toRule, type BuildRow, type LeaseRow, type RuleRow } from '../rows/builds.ts';
import type { PgDatabase } from './database.ts';

const RULE_MARKS = RULE_COLUMNS.split(', ').map((_, i) => `$${i + 1}`).join(', ');
const RULE_UPDATES = RULE_COLUMNS.split(', ')
  .filter((c) => c !== 'id' && c !== 'created_at')
  .map((c) => `${c} = EXCLUDED.${c}`)
  .join(', ');

const SQL = {
  putRule: `INSERT INTO build_rules (${RULE_COLUMNS}) VALUES (${RULE_MARKS}) ON CONFLICT (id) DO UPDATE SET ${RULE_UPDATES}`,
  getRule: `SELECT ${RULE_COLUMNS} FROM build_rules WHERE id = $1`,
  listRules: `SELECT ${RULE_COLUMNS} FROM build_rules WHERE repository = $1 ORDER BY created_at, id`,
  pollingRules: `SELECT ${RULE_COLUMNS} FROM build_rules WHERE poll ORDER BY repository, created_at, id`,
  deleteRule: 'DELETE FROM build_rules WHERE id = $1',
  seen: 'SELECT seen FROM build_rules WHERE id = $1',
  setSeen: 'UPDATE build_rules SET seen = $1 WHERE id = $2',
  insert: `INSERT INTO builds (repository, rule_id, ref, commit_sha, tag, status, trigger_kind, requested_by, created_at)
           VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8) RETURNING ${BUILD_COLUMNS}`,
  lockRule: 'SELECT id FROM build_rules WHERE id = $1 FOR UPDATE',
  // FOR UPDATE: a claim (which takes no rule lock) may be making it 'running'; wait for it and see what it made
  newestOfRef: `SELECT ${BUILD_COLUMNS} FROM builds WHERE rule_id = $1 AND ref = $2 ORDER BY id DESC LIMIT 1 FOR UPDATE`,
  repoint: `UPDATE builds SET commit_sha = $1, tag = $2 WHERE id = $3 RETURNING ${BUILD_COLUMNS}`,
  queuedOfRule: `SELECT count(*)::int AS n FROM builds WHERE status = 'queued' AND rule_id = $1`,
  orphans: `SELECT ${BUILD_COLUMNS}, claimed_by, claimed_until, attempts FROM builds
            WHERE status = 'running' AND claimed_until < $1 ORDER BY id FOR UPDATE SKIP LOCKED`,
  requeue: `UPDATE builds SET status = 'queued', claimed_by = NULL, claimed_until = NULL, started_at = NULL WHERE id = $1`,
  giveUp: `UPDATE builds SET status = 'failed', error = $1, finished_at = $2, claimed_by = NULL, claimed_until = NULL WHERE id = $3`,
  take: `UPDATE builds SET status = 'running', claimed_by = $1, claimed_until = $2, started_at = $3, attempts = attempts + 1
         WHERE id = (SELECT id FROM builds WHERE status = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING ${BUILD_COLUMNS}`,
  renew: `UPDATE builds SET claimed_until = $1 WHERE id = $2 AND status = 'running' AND claimed_by = $3 RETURNING cancel_requested`,
  setCommit: 'UPDATE builds SET commit_sha = $1 WHERE id = $2',
  finish: `UPDATE builds SET status = $1, digest = $2, error = $3, finished_at = $4, claimed_by = NULL, claimed_until = NULL
           WHERE id = $5 AND status = 'running' AND claimed_by = $6`,
  cancelQueued: `UPDATE builds SET status = 'cancelled', error = 'cancelled before it started', finished_at = $1
                 WHERE repository = $2 AND id = $3 AND status = 'queued'`,
  cancelRunning: `UPDATE builds SET cancel_requested = true WHERE repository = $1 AND id = $2 AND status = 'running'`,
  get: `SELECT ${BUILD_COLUMNS} FROM builds WHERE repository = $1 AND id = $2`,
  list: `SELECT ${BUILD_COLUMNS} FROM builds WHERE repository = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
  appendLog: 'INSERT INTO build_logs (build_id, seq, text) VALUES ($1, $2, $3)',
  readLog: 'SELECT seq, text FROM build_logs WHERE build_id = $1 AND seq >= $2 ORDER BY seq',
};

/** TEXT holds no NUL, which a build's output or a remote's error might carry. */
const text = (s: string): string => s.replaceAll('\0', '');

export class PgBuildStore implements BuildStore {
  constructor(private readonly db: PgDatabase) {}

  async putRule(rule: StoredBuildRule): Promise<void> {
    await this.db.query(SQL.putRule, ruleValues(rule, rule.poll));
  }

  async getRule(id: string): Promise<StoredBuildRule | undefined> {
    const [row] = await this.db.rows<RuleRow>(SQL.getRule, [id]);
    return row === undefined ? undefined : toRule(row);
  }

  async listRules(repository: string): Promise<StoredBuildRule[]> {
    return (await this.db.rows<RuleRow>(SQL.listRules, [repository])).map(toRule);
  }

  async pollingRules(): Promise<StoredBuildRule[]> {
    return (await this.db.rows<RuleRow>(SQL.pollingRules)).map(toRule);
  }

  async deleteRule(id: string): Promise<boolean> {
    return ((await this.db.query(SQL.deleteRule, [id])).rowCount ?? 0) > 0;
  }

  async seenCommits(ruleId: string): Promise<Record<string, string>> {
    const [row] = await this.db.rows<{ seen: string }>(SQL.seen, [ruleId]);
    return row === undefined ? {} : (JSON.parse(row.seen) as Record<string, string>);
  }

  async setSeenCommits(ruleId: string, seen: Record<string, string>): Promise<void> {
    await this.db.query(SQL.setSeen, [JSON.stringify(seen), ruleId]);
  }

  async enqueue(b: NewBuild, now: number, maxQueued: number): Promise<Build> {
    const row = await this.db.transaction(async (tx) => {
      // One enqueue of a rule at a time (the rule's row is the lock): two deliveries at once queue one build.
      await tx.query(SQL.lockRule, [b.ruleId]);
      const [newest] = await this.db.rows<BuildRow>(SQL.newestOfRef, [b.ruleId, b.ref], tx);
      const same = sameBuild(newest && toBuild(newest), b);
      if (same === 'keep') return newest;
      if (same === 'repoint' && newest !== undefined) return (await this.db.rows<BuildRow>(SQL.repoint, [b.commit, b.tag, newest.id], tx))[0];
      const [count] = await this.db.rows<{ n: number }>(SQL.queuedOfRule, [b.ruleId], tx);
      if ((count?.n ?? 0) >= maxQueued) throw queueFull(maxQueued);
      return (await this.db.rows<BuildRow>(SQL.insert, [b.repository, b.ruleId, b.ref, b.commit, b.tag, b.trigger, b.requestedBy, now], tx))[0];
    });
    if (row === undefined) throw new Error('builds: INSERT returned no row');
    return toBuild(row);
  }

  async claim(holder: string, now: number, leaseUntil: number): Promise<Build | undefined> {
    return this.db.transaction(async (tx) => {
      for (const orphan of await this.db.rows<LeaseRow>(SQL.orphans, [now], tx)) {
        if (orphan.attempts < MAX_BUILD_ATTEMPTS) await tx.query(SQL.requeue, [orphan.id]);
        else await tx.query(SQL.giveUp, [INTERRUPTED, now, orphan.id]);
      }
      const [row] = await this.db.rows<BuildRow>(SQL.take, [holder, leaseUntil, now], tx);
      return row === undefined ? undefined : toBuild(row);
    });
  }

  async renew(id: number, holder: string, leaseUntil: number): Promise<Renewal> {
    const [row] = await this.db.rows<{ cancel_requested: boolean }>(SQL.renew, [leaseUntil, id, holder]);
    return { held: row !== undefined, cancelRequested: row?.cancel_requested === true };
  }

  async setCommit(id: number, commit: string): Promise<void> {
    await this.db.query(SQL.setCommit, [commit, id]);
  }

  async finish(id: number, holder: string, end: { status: 'succeeded' | 'failed' | 'cancelled'; digest?: string; error?: string }, now: number): Promise<boolean> {
    const error = end.error === undefined ? null : text(end.error.slice(0, MAX_ERROR_CHARS));
    return ((await this.db.query(SQL.finish, [end.status, end.digest ?? null, error, now, id, holder])).rowCount ?? 0) > 0;
  }

  async requestCancel(repository: string, id: number, now: number): Promise<Build | undefined> {
    return this.db.transaction(async (tx) => {
      if (((await tx.query(SQL.cancelQueued, [now, repository, id])).rowCount ?? 0) === 0) await tx.query(SQL.cancelRunning, [repository, id]);
      const [row] = await this.db.rows<BuildRow>(SQL.get, [repository, id], tx);
      return row === undefined ? undefined : toBuild(row);
    });
  }

  async get(repository: string, id: number): Promise<Build | undefined> {
    const [row] = await this.db.rows<BuildRow>(SQL.get, [repository, id]);
    return row === undefined ? undefined : toBuild(row);
  }

  async list(repository: string, opts: { limit?: number; before?: number } = {}): Promise<Build[]> {
    return (await this.db.rows<BuildRow>(SQL.list, [repository, opts.before ?? Number.MAX_SAFE_INTEGER, opts.limit ?? 50])).map(toBuild);
  }

  async appendLog(id: number, seq: number, chunk: string): Promise<void> {
    await this.db.query(SQL.appendLog, [id, seq, text(chunk)]);
  }

  async readLog(id: number, fromSeq = 0): Promise<LogChunk[]> {
    return this.db.rows<LogChunk>(SQL.readLog, [id, fromSeq]);
  }
}
