/**
 * Garbage collection's store on PostgreSQL (gc.ts; schema/gc.ts), for nodes sharing the database.
 * A collection never waits on a lock a push holds: it takes each blob's digest lock and row with
 * try-locks (pg_try_advisory_xact_lock, FOR UPDATE SKIP LOCKED) and leaves a busy blob queued for
 * the next run, so it cannot deadlock with pushes either. What it then reads is fresh (READ
 * COMMITTED takes a snapshot per statement): a manifest that shared the blob's row committed
 * before the lock was had, and one that comes after waits for the mark's commit and finds no row.
 */
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
import { GC_SQL, toBlobFacts, toManifestFacts, toRun, type RunRow } from '../rows/gc.ts';
import type { PgDatabase, Queryable } from './database.ts';
import { named, type NamedParams } from './named.ts';

const TRY_LOCK = 'SELECT pg_try_advisory_xact_lock(hashtextextended(@digest, 0)) AS ok';
const LOCK = 'SELECT pg_advisory_xact_lock(hashtextextended(@digest, 0))';
const ROW_FOR_UPDATE = 'SELECT digest FROM blobs WHERE digest = @digest FOR UPDATE SKIP LOCKED';
const ROW = 'SELECT digest FROM blobs WHERE digest = @digest';

type Row = Record<string, unknown>;

export class PgGcStore implements GcStore {
  constructor(private readonly db: PgDatabase) {}

  private all<R extends object>(sql: string, params: NamedParams, on?: Queryable): Promise<R[]> {
    const q = named(sql, params);
    return this.db.rows<R>(q.text, q.values, on);
  }

  private async one<R extends object>(sql: string, params: NamedParams, on?: Queryable): Promise<R | undefined> {
    return (await this.all<R>(sql, params, on))[0];
  }

  async reviewManifests(cursor: ManifestCursor | undefined, limit: number, rules: GcRules, dryRun: boolean): Promise<{ candidates: ManifestCandidate[]; next?: ManifestCursor }> {
    const from = cursor ?? { repositoryId: -1, digest: '' };
    const queued = (await this.all<ManifestCursor>(GC_SQL.manifestQueue, { ...from, limit })).map((q) => ({ repositoryId: Number(q.repositoryId), digest: q.digest }));
    const candidates: ManifestCandidate[] = [];
    for (const q of queued) {
      const facts = toManifestFacts(await this.one<Row>(GC_SQL.manifestFacts, q));
      const verdict = manifestVerdict(facts, rules);
      // dropped outside a transaction: a trigger queues it again if it changes after this read
      if (verdict === 'drop' && !dryRun) await this.all(GC_SQL.unqueueManifest, q);
      else if (verdict !== 'drop' && verdict !== 'keep' && facts !== undefined) {
        candidates.push({ repository: facts.repository, digest: facts.digest, size: facts.size, reason: verdict });
      }
    }
    const last = queued.at(-1);
    return { candidates, ...(queued.length === limit && last !== undefined && { next: last }) };
  }

  async markBlobs(cursor: string | undefined, limit: number, rules: GcRules, markTtlMs: number, dryRun: boolean): Promise<{ dangling: DanglingBlob[]; next?: string }> {
    const queued = (await this.all<{ digest: string }>(GC_SQL.blobQueue, { after: cursor ?? '', limit })).map((r) => r.digest);
    const dangling: DanglingBlob[] = [];
    const review = async (tx: Queryable): Promise<void> => {
      for (const digest of queued) {
        if (!dryRun) {
          const locked = await this.one<{ ok: boolean }>(TRY_LOCK, { digest }, tx);
          if (locked?.ok !== true) continue;
          if ((await this.one(ROW_FOR_UPDATE, { digest }, tx)) === undefined) {
            // no row to lock: gone (out of the queue), or held by a push (reviewed next time)
            if ((await this.one(ROW, { digest }, tx)) === undefined) await this.all(GC_SQL.unqueueBlob, { digest }, tx);
            continue;
          }
        }
        const facts = toBlobFacts(await this.one<Row>(GC_SQL.blobFacts, { digest, youngAfter: rules.now - rules.graceMs, staleBefore: rules.now - BLOB_WRITE_TTL_MS }, tx));
        const verdict = blobVerdict(facts);
        if (verdict === 'drop' && !dryRun) await this.all(GC_SQL.unqueueBlob, { digest }, tx);
        if (verdict !== 'mark' || facts === undefined) continue;
        const repositories = (await this.all<{ name: string }>(GC_SQL.blobRepositories, { digest }, tx)).map((r) => r.name);
        dangling.push({ digest, size: facts.size, repositories });
        if (dryRun) continue;
        const params = { digest, size: facts.size, expiresAt: rules.now + markTtlMs };
        for (const sql of GC_SQL.mark) await this.all(sql, params, tx);
      }
    };
    if (dryRun) await review(this.db);
    else await this.db.transaction(review);
    const last = queued.at(-1);
    return { dangling, ...(queued.length === limit && last !== undefined && { next: last }) };
  }

  async reclaimMarks(now: number, markTtlMs: number): Promise<MarkedBlob[]> {
    const marks = await this.all<MarkedBlob>(GC_SQL.marks, {});
    const kept: MarkedBlob[] = [];
    for (const m of marks) {
      const renewed = await this.db.transaction(async (tx) => {
        await this.all(LOCK, { digest: m.digest }, tx);
        const row = await this.one<{ obsolete: boolean }>(GC_SQL.markObsolete, { digest: m.digest, staleBefore: now - BLOB_WRITE_TTL_MS }, tx);
        if (row?.obsolete === true) {
          await this.all(GC_SQL.unmark, { digest: m.digest }, tx);
          return undefined;
        }
        const expiresAt = now + markTtlMs;
        await this.all(GC_SQL.renewMark, { digest: m.digest, expiresAt }, tx);
        return { digest: m.digest, size: Number(m.size), expiresAt };
      });
      if (renewed !== undefined) kept.push(renewed);
    }
    return kept;
  }

  async finishBlobs(digests: string[]): Promise<void> {
    await this.all('DELETE FROM gc_blob_deleting WHERE digest = ANY(@digests::text[])', { digests });
  }

  async queued(): Promise<{ blobs: number; manifests: number }> {
    const r = await this.one<{ blobs: number; manifests: number }>(GC_SQL.queued, {});
    return { blobs: Number(r?.blobs ?? 0), manifests: Number(r?.manifests ?? 0) };
  }

  async startRun(run: { startedAt: number; trigger: string; dryRun: boolean; node: string }): Promise<number> {
    const row = await this.one<{ id: number }>(GC_SQL.startRun, { ...run, dryRun: run.dryRun ? 1 : 0 });
    return Number(row?.id);
  }

  async finishRun(id: number, finishedAt: number, report: unknown): Promise<void> {
    await this.all(GC_SQL.finishRun, { id, finishedAt, report: JSON.stringify(report) });
  }

  async listRuns(limit: number): Promise<GcRunRecord[]> {
    return (await this.all<RunRow>(GC_SQL.runs, { limit })).map(toRun);
  }
}
