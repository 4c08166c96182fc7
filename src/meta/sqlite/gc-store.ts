/**
 * Garbage collection's store on SQLite (gc.ts; schema gc-schema.ts). One writer at a time makes
 * each review-and-mark transaction atomic against every push, mount and delete: they are BEGIN
 * IMMEDIATE, so a `berth gc` beside a serving berth waits its turn (busy_timeout) instead of failing.
 * Pages that only drop queue entries (and run records, and dropped marks) commit relaxed (no fsync):
 * a power cut that loses one costs a blob reviewed again. A page that marks commits in full before
 * any of its bytes are deleted: a mark lost with the bytes gone would bring back records of nothing.
 */
import type Database from 'better-sqlite3';
import {
  blobVerdict,
  BLOB_WRITE_TTL_MS,
  manifestVerdict,
  type DanglingBlob,
  type GcRules,
  type GcRunRecord,
  type GcStore,
  type ManifestCandidate,
  type ManifestCursor,
  type MarkedBlob,
} from '../gc.ts';
import { relaxed } from './relaxed.ts';
import { GC_SQL, toBlobFacts, toManifestFacts, toRun, type RunRow } from '../rows/gc.ts';

type Row = Record<string, unknown>;

export class SqliteGcStore implements GcStore {
  private readonly st;

  /** `db` is the meta store's connection (SqliteMetaStore.database), already migrated. */
  constructor(private readonly db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.st = {
      blobFacts: p(GC_SQL.blobFacts),
      blobRepositories: p(GC_SQL.blobRepositories),
      manifestFacts: p(GC_SQL.manifestFacts),
      manifestQueue: p(GC_SQL.manifestQueue),
      unqueueManifest: p(GC_SQL.unqueueManifest),
      blobQueue: p(GC_SQL.blobQueue),
      unqueueBlob: p(GC_SQL.unqueueBlob),
      mark: GC_SQL.mark.map(p),
      marks: p(GC_SQL.marks),
      markObsolete: p(GC_SQL.markObsolete),
      renewMark: p(GC_SQL.renewMark),
      unmark: p(GC_SQL.unmark),
      queued: p(GC_SQL.queued),
      startRun: p(GC_SQL.startRun),
      finishRun: p(GC_SQL.finishRun),
      runs: p(GC_SQL.runs),
    };
  }

  async reviewManifests(cursor: ManifestCursor | undefined, limit: number, rules: GcRules, dryRun: boolean): Promise<{ candidates: ManifestCandidate[]; next?: ManifestCursor }> {
    const from = cursor ?? { repositoryId: -1, digest: '' };
    const queued = this.st.manifestQueue.all({ ...from, limit }) as ManifestCursor[];
    const candidates: ManifestCandidate[] = [];
    // a review only drops queue entries (the deletes are the manifest store's): relaxed
    relaxed(this.db, () => this.db.transaction(() => {
      for (const q of queued) {
        const facts = toManifestFacts(this.st.manifestFacts.get(q) as Row | undefined);
        const verdict = manifestVerdict(facts, rules);
        if (verdict === 'drop' && !dryRun) this.st.unqueueManifest.run(q);
        else if (verdict !== 'drop' && verdict !== 'keep' && facts !== undefined) {
          candidates.push({ repository: facts.repository, digest: facts.digest, size: facts.size, reason: verdict });
        }
      }
    })());
    const last = queued.at(-1);
    return { candidates, ...(queued.length === limit && last !== undefined && { next: last }) };
  }

  async markBlobs(cursor: string | undefined, limit: number, rules: GcRules, markTtlMs: number, dryRun: boolean): Promise<{ dangling: DanglingBlob[]; next?: string }> {
    const queued = (this.st.blobQueue.all({ after: cursor ?? '', limit }) as { digest: string }[]).map((r) => r.digest);
    const dangling: DanglingBlob[] = [];
    const verdictOf = (digest: string) => {
      const facts = toBlobFacts(this.st.blobFacts.get({ digest, youngAfter: rules.now - rules.graceMs, staleBefore: rules.now - BLOB_WRITE_TTL_MS }) as Row | undefined);
      return { facts, verdict: blobVerdict(facts) };
    };
    /** Judge the page in the transaction; `marking` false only drops (a blob found dangling then waits for the next run). */
    const review = (marking: boolean): void => {
      for (const digest of queued) {
        const { facts, verdict } = verdictOf(digest);
        if (verdict === 'drop' && !dryRun) this.st.unqueueBlob.run({ digest });
        if (verdict !== 'mark' || facts === undefined || !marking) continue;
        const repositories = (this.st.blobRepositories.all({ digest }) as { name: string }[]).map((r) => r.name);
        dangling.push({ digest, size: facts.size, repositories });
        if (dryRun) continue;
        const params = { digest, size: facts.size, expiresAt: rules.now + markTtlMs };
        for (const s of this.st.mark) s.run(pick(s, params));
      }
    };
    if (dryRun) review(true);
    // most pages mark nothing (a first pass reviews every blob once): those commit relaxed, one fsync less each
    else if (queued.some((digest) => verdictOf(digest).verdict === 'mark')) this.db.transaction(() => review(true)).immediate();
    else relaxed(this.db, () => this.db.transaction(() => review(false)).immediate());
    const last = queued.at(-1);
    return { dangling, ...(queued.length === limit && last !== undefined && { next: last }) };
  }

  async reclaimMarks(now: number, markTtlMs: number): Promise<MarkedBlob[]> {
    return this.db
      .transaction(() => {
        const kept: MarkedBlob[] = [];
        for (const m of this.st.marks.all() as MarkedBlob[]) {
          const { obsolete } = this.st.markObsolete.get({ digest: m.digest, staleBefore: now - BLOB_WRITE_TTL_MS }) as { obsolete: number };
          if (obsolete) {
            this.st.unmark.run({ digest: m.digest });
            continue;
          }
          const expiresAt = now + markTtlMs;
          this.st.renewMark.run({ digest: m.digest, expiresAt });
          kept.push({ digest: m.digest, size: Number(m.size), expiresAt });
        }
        return kept;
      })
      .immediate();
  }

  async finishBlobs(digests: string[]): Promise<void> {
    // a mark lost in a power cut is reclaimed by the next run, which finds the bytes gone
    relaxed(this.db, () => this.db.transaction(() => digests.forEach((digest) => this.st.unmark.run({ digest })))());
  }

  async queued(): Promise<{ blobs: number; manifests: number }> {
    const r = this.st.queued.get() as { blobs: number; manifests: number };
    return { blobs: Number(r.blobs), manifests: Number(r.manifests) };
  }

  async startRun(run: { startedAt: number; trigger: string; dryRun: boolean; node: string }): Promise<number> {
    return Number((this.st.startRun.get({ ...run, dryRun: run.dryRun ? 1 : 0 }) as { id: number }).id);
  }

  async finishRun(id: number, finishedAt: number, report: unknown): Promise<void> {
    this.st.finishRun.run({ id, finishedAt, report: JSON.stringify(report) });
  }

  async listRuns(limit: number): Promise<GcRunRecord[]> {
    return (this.st.runs.all({ limit }) as RunRow[]).map(toRun);
  }
}

/** The parameters a statement names, of those given (better-sqlite3 refuses unnamed extras). */
function pick(st: Database.Statement, params: Record<string, unknown>): Record<string, unknown> {
  const names = st.source.match(/@\w+/g)?.map((n) => n.slice(1)) ?? [];
  return Object.fromEntries(names.map((n) => [n, params[n]]));
}
