/**
 * The build store on the meta store's SQLite database (migration 16, builds-schema.ts). Rules,
 * queued builds and finished ones are committed with synchronous=FULL; log chunks and lease
 * renewals are relaxed (a power cut may lose the last lines of a log, never a build).
 */
import type Database from 'better-sqlite3';
import type { Build, BuildStore, LogChunk, NewBuild, Renewal, StoredBuildRule } from '../../builds/model.ts';
import { BUILD_COLUMNS, INTERRUPTED, MAX_BUILD_ATTEMPTS, MAX_ERROR_CHARS, queueFull, RULE_COLUMNS, sameBuild, ruleValues, toBuild, toRule, type BuildRow, type LeaseRow, type RuleRow } from '../rows/builds.ts';
import { relaxed } from './relaxed.ts';

function prepare(db: Database.Database) {
  const marks = RULE_COLUMNS.split(', ').map(() => '?').join(', ');
  const updates = RULE_COLUMNS.split(', ').filter((c) => c !== 'id' && c !== 'created_at').map((c) => `${c} = excluded.${c}`).join(', ');
  return {
    putRule: db.prepare(`INSERT INTO build_rules (${RULE_COLUMNS}) VALUES (${marks}) ON CONFLICT (id) DO UPDATE SET ${updates}`),
    getRule: db.prepare<[string], RuleRow>(`SELECT ${RULE_COLUMNS} FROM build_rules WHERE id = ?`),
    listRules: db.prepare<[string], RuleRow>(`SELECT ${RULE_COLUMNS} FROM build_rules WHERE repository = ? ORDER BY created_at, id`),
    pollingRules: db.prepare<[], RuleRow>(`SELECT ${RULE_COLUMNS} FROM build_rules WHERE poll = 1 ORDER BY repository, created_at, id`),
    deleteRule: db.prepare<[string]>('DELETE FROM build_rules WHERE id = ?'),
    seen: db.prepare<[string], { seen: string }>('SELECT seen FROM build_rules WHERE id = ?'),
    setSeen: db.prepare<[string, string]>('UPDATE build_rules SET seen = ? WHERE id = ?'),
    insert: db.prepare<[string, string, string, string | null, string, string, string | null, number], BuildRow>(
      `INSERT INTO builds (repository, rule_id, ref, commit_sha, tag, status, trigger_kind, requested_by, created_at)
       VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?) RETURNING ${BUILD_COLUMNS}`,
    ),
    newestOfRef: db.prepare<[string, string], BuildRow>(`SELECT ${BUILD_COLUMNS} FROM builds WHERE rule_id = ? AND ref = ? ORDER BY id DESC LIMIT 1`),
    repoint: db.prepare<[string | null, string, number], BuildRow>(`UPDATE builds SET commit_sha = ?, tag = ? WHERE id = ? RETURNING ${BUILD_COLUMNS}`),
    queuedOfRule: db.prepare<[string], { n: number }>(`SELECT count(*) AS n FROM builds WHERE status = 'queued' AND rule_id = ?`),
    orphans: db.prepare<[number], LeaseRow>(`SELECT ${BUILD_COLUMNS}, claimed_by, claimed_until, attempts FROM builds WHERE status = 'running' AND claimed_until < ? ORDER BY id`),
    requeue: db.prepare<[number]>(`UPDATE builds SET status = 'queued', claimed_by = NULL, claimed_until = NULL, started_at = NULL WHERE id = ?`),
    giveUp: db.prepare<[string, number, number]>(`UPDATE builds SET status = 'failed', error = ?, finished_at = ?, claimed_by = NULL, claimed_until = NULL WHERE id = ?`),
    oldestQueued: db.prepare<[], BuildRow>(`SELECT ${BUILD_COLUMNS} FROM builds WHERE status = 'queued' ORDER BY id LIMIT 1`),
    take: db.prepare<[string, number, number, number], BuildRow>(
      `UPDATE builds SET status = 'running', claimed_by = ?, claimed_until = ?, started_at = ?, attempts = attempts + 1
       WHERE id = ? AND status = 'queued' RETURNING ${BUILD_COLUMNS}`,
    ),
    renew: db.prepare<[number, number, string], { cancel_requested: number }>(
      `UPDATE builds SET claimed_until = ? WHERE id = ? AND status = 'running' AND claimed_by = ? RETURNING cancel_requested`,
    ),
    setCommit: db.prepare<[string, number]>('UPDATE builds SET commit_sha = ? WHERE id = ?'),
    finish: db.prepare<[string, string | null, string | null, number, number, string]>(
      `UPDATE builds SET status = ?, digest = ?, error = ?, finished_at = ?, claimed_by = NULL, claimed_until = NULL
       WHERE id = ? AND status = 'running' AND claimed_by = ?`,
    ),
    cancelQueued: db.prepare<[number, string, number]>(
      `UPDATE builds SET status = 'cancelled', error = 'cancelled before it started', finished_at = ? WHERE repository = ? AND id = ? AND status = 'queued'`,
    ),
    cancelRunning: db.prepare<[string, number]>(`UPDATE builds SET cancel_requested = 1 WHERE repository = ? AND id = ? AND status = 'running'`),
    get: db.prepare<[string, number], BuildRow>(`SELECT ${BUILD_COLUMNS} FROM builds WHERE repository = ? AND id = ?`),
    list: db.prepare<[string, number, number], BuildRow>(`SELECT ${BUILD_COLUMNS} FROM builds WHERE repository = ? AND id < ? ORDER BY id DESC LIMIT ?`),
    appendLog: db.prepare<[number, number, string]>('INSERT INTO build_logs (build_id, seq, text) VALUES (?, ?, ?)'),
    readLog: db.prepare<[number, number], LogChunk>('SELECT seq, text FROM build_logs WHERE build_id = ? AND seq >= ? ORDER BY seq'),
  };
}

export class SqliteBuildStore implements BuildStore {
  private readonly st: ReturnType<typeof prepare>;

  /** `db` is the meta store's connection (SqliteMetaStore.database), already migrated. */
  constructor(private readonly db: Database.Database) {
    this.st = prepare(db);
  }

  async putRule(rule: StoredBuildRule): Promise<void> {
    this.st.putRule.run(...ruleValues(rule, rule.poll ? 1 : 0));
  }

  async getRule(id: string): Promise<StoredBuildRule | undefined> {
    const row = this.st.getRule.get(id);
    return row === undefined ? undefined : toRule(row);
  }

  async listRules(repository: string): Promise<StoredBuildRule[]> {
    return this.st.listRules.all(repository).map(toRule);
  }

  async pollingRules(): Promise<StoredBuildRule[]> {
    return this.st.pollingRules.all().map(toRule);
  }

  async deleteRule(id: string): Promise<boolean> {
    return this.st.deleteRule.run(id).changes > 0;
  }

  async seenCommits(ruleId: string): Promise<Record<string, string>> {
    const row = this.st.seen.get(ruleId);
    return row === undefined ? {} : (JSON.parse(row.seen) as Record<string, string>);
  }

  async setSeenCommits(ruleId: string, seen: Record<string, string>): Promise<void> {
    this.st.setSeen.run(JSON.stringify(seen), ruleId);
  }

  async enqueue(b: NewBuild, now: number, maxQueued: number): Promise<Build> {
    const enqueue = this.db.transaction((): BuildRow | undefined => {
      const newest = this.st.newestOfRef.get(b.ruleId, b.ref);
      const same = sameBuild(newest && toBuild(newest), b);
      if (same === 'keep') return newest;
      if (same === 'repoint' && newest !== undefined) return this.st.repoint.get(b.commit, b.tag, newest.id);
      if ((this.st.queuedOfRule.get(b.ruleId)?.n ?? 0) >= maxQueued) throw queueFull(maxQueued);
      return this.st.insert.get(b.repository, b.ruleId, b.ref, b.commit, b.tag, b.trigger, b.requestedBy, now);
    });
    const row = enqueue.immediate();
    if (row === undefined) throw new Error('builds: INSERT returned no row');
    return toBuild(row);
  }

  async claim(holder: string, now: number, leaseUntil: number): Promise<Build | undefined> {
    const claim = this.db.transaction((): Build | undefined => {
      for (const orphan of this.st.orphans.all(now)) {
        if (orphan.attempts < MAX_BUILD_ATTEMPTS) this.st.requeue.run(orphan.id);
        else this.st.giveUp.run(INTERRUPTED, now, orphan.id);
      }
      const next = this.st.oldestQueued.get();
      if (next === undefined) return undefined;
      const row = this.st.take.get(holder, leaseUntil, now, next.id);
      return row === undefined ? undefined : toBuild(row);
    });
    return claim.immediate();
  }

  async renew(id: number, holder: string, leaseUntil: number): Promise<Renewal> {
    const row = relaxed(this.db, () => this.st.renew.get(leaseUntil, id, holder));
    return { held: row !== undefined, cancelRequested: row?.cancel_requested === 1 };
  }

  async setCommit(id: number, commit: string): Promise<void> {
    relaxed(this.db, () => this.st.setCommit.run(commit, id));
  }

  async finish(id: number, holder: string, end: { status: 'succeeded' | 'failed' | 'cancelled'; digest?: string; error?: string }, now: number): Promise<boolean> {
    const error = end.error === undefined ? null : end.error.slice(0, MAX_ERROR_CHARS);
    return this.st.finish.run(end.status, end.digest ?? null, error, now, id, holder).changes > 0;
  }

  async requestCancel(repository: string, id: number, now: number): Promise<Build | undefined> {
    const cancel = this.db.transaction(() => {
      if (this.st.cancelQueued.run(now, repository, id).changes === 0) this.st.cancelRunning.run(repository, id);
      return this.st.get.get(repository, id);
    });
    const row = cancel.immediate();
    return row === undefined ? undefined : toBuild(row);
  }

  async get(repository: string, id: number): Promise<Build | undefined> {
    const row = this.st.get.get(repository, id);
    return row === undefined ? undefined : toBuild(row);
  }

  async list(repository: string, opts: { limit?: number; before?: number } = {}): Promise<Build[]> {
    return this.st.list.all(repository, opts.before ?? Number.MAX_SAFE_INTEGER, opts.limit ?? 50).map(toBuild);
  }

  async appendLog(id: number, seq: number, text: string): Promise<void> {
    relaxed(this.db, () => this.st.appendLog.run(id, seq, text));
  }

  async readLog(id: number, fromSeq = 0): Promise<LogChunk[]> {
    return this.st.readLog.all(id, fromSeq);
  }
}
