/**
 * Online garbage collection (docs/gc.md has the safety argument). A run reviews what the meta
 * store's triggers queued since the last one (meta/gc.ts), never a listing of storage:
 *   1. marks an interrupted run left are finished (their bytes deleted, unless wanted again);
 *   2. retention, if configured, deletes the tags its policies name (the hook `retention`);
 *   3. collectable manifests (untagged ones past the grace when `untagged: delete`, referrers whose
 *      subject is gone) are deleted through the served manifest store, so caches, the search index
 *      and notifications follow as for an API delete; each delete judges again in its transaction;
 *   4. dangling blobs are marked (records, links and journal copies gone in one transaction), their
 *      bytes deleted, their marks dropped;
 *   5. abandoned upload sessions are purged (the upload purger's job, folded in).
 * Nothing here waits on a push: each step is a short transaction, and pushes only ever wait for the
 * deletion of the bytes of a blob they are writing again (blob-writes.ts).
 */
import type { Logger } from 'pino';
import { setImmediate as yieldToRequests } from 'node:timers/promises';
import type { DanglingBlob, GcRules, GcStore, MarkedBlob } from '../meta/gc.ts';
import type { StorageDriver } from '../storage/driver.ts';
import { PathNotFoundError } from '../storage/driver.ts';
import { blobDataPath } from '../storage/paths.ts';
import { ManifestUnknownError } from './errors.ts';
import type { ManifestStore } from './manifests.ts';
import { parseDigest } from './reference.ts';

/** How long a mark lets its run delete the blob's bytes; a writer of the same blob waits that long at most. */
export const MARK_TTL_MS = 30_000;
/** A batch's bytes are deleted only while this much of its marks' time is left. */
const MARK_MARGIN_MS = 10_000;
const MANIFEST_PAGE = 500;
const BLOB_PAGE = 200;
/** Deletions of bytes in flight at once. */
const DELETE_CONCURRENCY = 8;
/** Manifest passes per run: deleting an index or a subject queues its children and referrers for the next. */
const MANIFEST_PASSES = 4;

export interface RepositoryReport {
  name: string;
  manifests: number;
  blobs: number;
  /** Bytes of the blobs freed that were linked to this repository (a blob in several counts in each). */
  bytes: number;
}

export interface GcReport {
  dryRun: boolean;
  trigger: string;
  startedAt: number;
  finishedAt: number;
  durationMs: number;
  manifests: number;
  manifestBytes: number;
  blobs: number;
  /** Bytes freed in storage (each blob once; manifests' bytes are blobs too, counted when freed). */
  bytes: number;
  /** Upload sessions purged (or that would be). */
  uploads: number;
  /** Blobs left for the next run: a push held them, or their marks ran out before their bytes went. */
  deferred: number;
  repositories: RepositoryReport[];
  /** What retention deleted (its own report), when it ran. */
  retention?: unknown;
  errors: string[];
}

export interface GcObserver {
  run(report: GcReport): void;
  error(): void;
}

export interface GarbageCollectorOptions {
  store: GcStore;
  /** The served manifest store: deletes go through it as an API delete does (events, caches, search). */
  manifests: Pick<ManifestStore, 'delete'>;
  driver: StorageDriver;
  graceMs: number;
  untagged: 'keep' | 'delete';
  /** This process, in the runs' records. */
  node: string;
  /** storage.delete.enabled: false leaves every manifest alone (blobs are still collected). */
  deleteManifests?: boolean;
  /** storage.maintenance.readonly: a run changes nothing (it reports, as a dry run would). */
  readOnly?: boolean;
  log?: Logger;
  now?: () => number;
  /** Forget cached blob links of a repository whose blobs were collected (BlobService.invalidate). */
  invalidate?: (repo: string) => void;
  /** Retention's deletes, run before the review (dryRun: only what it would delete). */
  retention?: (dryRun: boolean) => Promise<unknown>;
  /** The upload purger's run (dryRun: only count). */
  purgeUploads?: (dryRun: boolean) => Promise<number>;
  observer?: GcObserver;
}

export interface RunOptions {
  dryRun?: boolean;
  /** What started it, for the record: 'schedule', 'cli', 'api' or a test's name. */
  trigger?: string;
}

class Tally {
  readonly repos = new Map<string, RepositoryReport>();
  manifests = 0;
  manifestBytes = 0;
  blobs = 0;
  bytes = 0;

  private repo(name: string): RepositoryReport {
    let r = this.repos.get(name);
    if (r === undefined) this.repos.set(name, (r = { name, manifests: 0, blobs: 0, bytes: 0 }));
    return r;
  }

  manifest(repo: string, size: number): void {
    this.manifests++;
    this.manifestBytes += size;
    this.repo(repo).manifests++;
  }

  blob(b: DanglingBlob): void {
    this.blobs++;
    this.bytes += b.size;
    for (const name of b.repositories) {
      const r = this.repo(name);
      r.blobs++;
      r.bytes += b.size;
    }
  }
}

export class GarbageCollector {
  private readonly now: () => number;
  private running: Promise<GcReport> | undefined;

  constructor(private readonly opts: GarbageCollectorOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** The rules a run judges by, at this moment. */
  rules(): GcRules {
    return { now: this.now(), graceMs: this.opts.graceMs, untagged: this.opts.untagged };
  }

  /** One run, recorded; runs asked for in this process run one after the other. */
  run(opts: RunOptions = {}): Promise<GcReport> {
    return this.serialised(() => this.runOnce(opts, true));
  }

  /** What a run would free now (a dry run that is not recorded: the admin page's "reclaimable"). */
  async preview(): Promise<GcReport> {
    const report = await this.serialised(() => this.runOnce({ dryRun: true, trigger: 'preview' }, false));
    this.lastPreview = report;
    return report;
  }

  private lastPreview: GcReport | undefined;

  /**
   * The admin page's "reclaimable", never waiting behind a run: a preview now, or while a run goes
   * on in this process, the last preview taken before it (stale; undefined if there was none).
   */
  async reclaimable(): Promise<{ report: GcReport; stale: boolean } | undefined> {
    if (!this.busy) return { report: await this.preview(), stale: false };
    return this.lastPreview && { report: this.lastPreview, stale: true };
  }

  /** Whether a run is going on in this process. */
  get busy(): boolean {
    return this.pending > 0;
  }

  private pending = 0;

  private serialised(fn: () => Promise<GcReport>): Promise<GcReport> {
    this.pending++;
    const next = (this.running ?? Promise.resolve()).catch(() => undefined).then(fn);
    const settled = next.finally(() => this.pending--);
    this.running = settled;
    return settled;
  }

  private async runOnce({ dryRun: asked = false, trigger = 'manual' }: RunOptions, record: boolean): Promise<GcReport> {
    const { store, log } = this.opts;
    const dryRun = asked || this.opts.readOnly === true;
    const startedAt = this.now();
    const id = record ? await store.startRun({ startedAt, trigger, dryRun, node: this.opts.node }) : undefined;
    const tally = new Tally();
    const errors: string[] = [];
    const fail = (what: string, err: unknown): void => {
      errors.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      this.opts.observer?.error();
      log?.error({ err }, `garbage collection: ${what} failed`);
    };
    let deferred = 0;
    let retention: unknown;
    let uploads = 0;
    if (!dryRun) {
      await this.reclaim().then((n) => (deferred += n), (err: unknown) => fail('finishing an interrupted run', err));
    }
    if (this.opts.retention !== undefined) {
      retention = await this.opts.retention(dryRun).catch((err: unknown) => fail('retention', err));
    }
    if (this.opts.deleteManifests !== false) await this.collectManifests(dryRun, tally).catch((err: unknown) => fail('manifests', err));
    await this.collectBlobs(dryRun, tally).then((n) => (deferred += n), (err: unknown) => fail('blobs', err));
    if (this.opts.purgeUploads !== undefined) {
      uploads = await this.opts.purgeUploads(dryRun).catch((err: unknown) => (fail('upload purging', err), 0));
    }
    const finishedAt = this.now();
    const report: GcReport = {
      dryRun,
      trigger,
      startedAt,
      finishedAt,
      durationMs: finishedAt - startedAt,
      manifests: tally.manifests,
      manifestBytes: tally.manifestBytes,
      blobs: tally.blobs,
      bytes: tally.bytes,
      uploads,
      deferred,
      repositories: [...tally.repos.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      ...(retention !== undefined && { retention }),
      errors,
    };
    if (id === undefined) return report;
    await store.finishRun(id, finishedAt, report).catch((err: unknown) => log?.warn({ err }, 'garbage collection: run not recorded'));
    this.opts.observer?.run(report);
    log?.info({ dryRun, trigger, manifests: report.manifests, blobs: report.blobs, bytes: report.bytes, deferred, errors: errors.length, ms: report.durationMs }, 'garbage collection finished');
    return report;
  }

  /** Marks of a run that died: delete what they still cover. Returns how many are left for later. */
  private async reclaim(): Promise<number> {
    const marks = await this.opts.store.reclaimMarks(this.now(), MARK_TTL_MS);
    return marks.length === 0 ? 0 : this.deleteMarked(marks);
  }

  private async collectManifests(dryRun: boolean, tally: Tally): Promise<void> {
    for (let pass = 0; pass < (dryRun ? 1 : MANIFEST_PASSES); pass++) {
      const before = tally.manifests;
      let cursor;
      do {
        const rules = this.rules();
        const page = await this.opts.store.reviewManifests(cursor, MANIFEST_PAGE, rules, dryRun);
        for (const c of page.candidates) {
          if (dryRun) {
            tally.manifest(c.repository, c.size);
            continue;
          }
          try {
            await this.opts.manifests.delete(c.repository, c.digest, { collectable: rules });
            tally.manifest(c.repository, c.size);
            await yieldToRequests();
          } catch (err) {
            // tagged, referenced or deleted meanwhile: judged again in the delete's transaction
            if (!(err instanceof ManifestUnknownError)) throw err;
          }
        }
        cursor = page.next;
        // the SQLite store answers synchronously: let the server's requests in between pages
        await yieldToRequests();
      } while (cursor !== undefined);
      if (tally.manifests === before) return;
    }
  }

  /** Returns how many dangling blobs were left for the next run. */
  private async collectBlobs(dryRun: boolean, tally: Tally): Promise<number> {
    let deferred = 0;
    let cursor: string | undefined;
    do {
      const rules = this.rules();
      const page = await this.opts.store.markBlobs(cursor, BLOB_PAGE, rules, MARK_TTL_MS, dryRun);
      for (const b of page.dangling) tally.blob(b);
      if (!dryRun && page.dangling.length > 0) {
        for (const repo of new Set(page.dangling.flatMap((b) => b.repositories))) this.opts.invalidate?.(repo);
        deferred += await this.deleteMarked(page.dangling.map((b) => ({ digest: b.digest, size: b.size, expiresAt: rules.now + MARK_TTL_MS })));
      }
      cursor = page.next;
      await yieldToRequests();
    } while (cursor !== undefined);
    return deferred;
  }

  /**
   * Delete the marked blobs' bytes while their marks last, then drop the marks. A mark that runs
   * out first stays: the next run renews it (or drops it, if the blob is wanted again) and deletes.
   * Returns how many were left.
   */
  private async deleteMarked(marks: MarkedBlob[]): Promise<number> {
    const done: string[] = [];
    let left = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < marks.length) {
        const m = marks[next++];
        if (m === undefined) return;
        if (this.now() > m.expiresAt - MARK_MARGIN_MS) {
          left++;
          continue;
        }
        const { algorithm, hex } = parseDigest(m.digest);
        try {
          await this.opts.driver.delete(blobDataPath(algorithm, hex));
        } catch (err) {
          if (!(err instanceof PathNotFoundError)) {
            left++;
            this.opts.log?.warn({ err, digest: m.digest }, 'garbage collection: blob not deleted; the next run tries again');
            continue;
          }
        }
        done.push(m.digest);
      }
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, marks.length) }, worker));
    if (done.length > 0) await this.opts.store.finishBlobs(done);
    return left;
  }
}
