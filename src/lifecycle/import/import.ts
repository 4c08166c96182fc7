/**
 * `berth import ROOT`'s library: adopt a distribution (registry:2) storage root. Bytes first, then
 * metadata (CONVENTIONS 12): every blob its repositories reference, verified and placed in
 * berth's storage (blobs.ts: hard links or renames on the same filesystem, streamed otherwise);
 * then each repository's layer links, manifests (children before their index) and tags, through
 * the MetaStore interface, so SQLite and PostgreSQL alike (records.ts). Upload leftovers and
 * blobs nothing references are counted and left behind.
 *
 * Every step is idempotent: what berth holds already is neither read again nor written, so an
 * interrupted run continues where it stopped and a second run imports nothing. It only adds to
 * berth (no tag is moved unless asked, nothing is deleted), so it runs beside a serving berth as
 * well as a stopped one. No webhook is sent for what it imports.
 */
import fs from 'node:fs/promises';
import nodePath from 'node:path';
import { ConfigError } from '../../config/errors.ts';
import type { Config } from '../../config/schema.ts';
import type { Backend } from '../../meta/backend.ts';
import type { Progress } from '../../migrate/progress.ts';
import type { StorageDriver } from '../../storage/driver.ts';
import { emptyBlobCounts, importBlobs, type BlobCounts, type BlobPhaseOptions, type Transfer } from './blobs.ts';
import { emptyRecordCounts, importRepository, readManifest, type Counts, type ReadManifest } from './records.ts';
import { Registry2Root, type Skip } from './source.ts';

export type { Skip, Transfer };

export interface ImportOptions {
  /** The registry:2 root directory (its rootdirectory, or the docker/registry/v2 directory in it). */
  root: string;
  /** berth's config: where the blobs go (storage) and the metadata (meta.sqlite or database). */
  config: Config;
  configFile?: string;
  /** link (default), move (--move) or stream (--copy; also what link and move fall back to). */
  transfer?: Transfer;
  /** Find out and verify everything; write nothing. */
  dryRun?: boolean;
  /** Move berth's tags that point elsewhere to the source's manifest. */
  overwriteTags?: boolean;
  /** Blobs read at once (default 4). */
  concurrency?: number;
  progress: Progress;
  /** The storage driver of the config (main.ts's createDriver unless given). */
  driver?: (config: Config) => Promise<StorageDriver>;
}

export interface ImportSummary {
  root: string;
  dryRun: boolean;
  /** How blobs were placed: link and move become stream when berth's storage is elsewhere. */
  transfer: Transfer;
  repositories: Counts;
  tags: Counts;
  manifests: Counts;
  layerLinks: Counts;
  blobs: BlobCounts;
  /** Upload sessions left in the source's `_uploads`: never imported. */
  uploadsSkipped: number;
  /** Blobs in the source no repository references (left behind). */
  unreferencedBlobs: number;
  /** Everything left out for a reason, with the reason. */
  skipped: Skip[];
  seconds: number;
  /** Nothing new was (or would be) imported. */
  upToDate: boolean;
  /** Nothing was skipped: every repository, manifest, tag and blob is in berth. */
  ok: boolean;
}

/** Refuse a config that would keep nothing: a ConfigError (exit 78) naming the key. */
export function checkConfig(config: Config, file?: string): void {
  if (config.storage.driver === 'inmemory') {
    throw new ConfigError([{ path: 'storage.driver', reason: 'berth keeps blobs in memory here: nothing imported would outlive the command' }], file);
  }
  if (!config.database.enabled && config.meta.sqlite.path === ':memory:') {
    throw new ConfigError([{ path: 'meta.sqlite.path', reason: 'berth keeps its metadata in memory here: nothing imported would outlive the command' }], file);
  }
}

async function defaultDriver(config: Config): Promise<StorageDriver> {
  const { createDriver } = await import('../../main.ts');
  return createDriver(config);
}

/** The device of `path`, or of its nearest existing parent. */
async function deviceOf(path: string): Promise<number> {
  for (let p = path; ; p = nodePath.dirname(p)) {
    try {
      return (await fs.stat(p)).dev;
    } catch (err) {
      if (p === nodePath.dirname(p)) throw err;
    }
  }
}

/** berth's metadata: the configured backend; in a dry run against a database not created yet, an empty one. */
async function openMeta(config: Config, dryRun: boolean): Promise<Backend> {
  const sqlite = config.meta.sqlite.path;
  if (!config.database.enabled) {
    const exists = await fs.stat(sqlite).then(
      () => true,
      () => false,
    );
    const { openSqliteBackend } = await import('../../meta/sqlite/backend.ts');
    if (dryRun) return openSqliteBackend(exists ? { path: sqlite, readOnly: true } : { path: ':memory:' });
    await fs.mkdir(nodePath.dirname(nodePath.resolve(sqlite)), { recursive: true });
  }
  const { openBackend } = await import('../../meta/open-backend.ts');
  return openBackend(config, { readOnly: dryRun });
}

function nothingNew(s: Pick<ImportSummary, 'blobs' | 'repositories' | 'tags' | 'manifests' | 'layerLinks'>): boolean {
  const b = s.blobs;
  return b.linked + b.moved + b.copied === 0 && [s.repositories, s.tags, s.manifests, s.layerLinks].every((c) => c.imported === 0);
}

export async function importRegistry(opts: ImportOptions): Promise<ImportSummary> {
  const started = Date.now();
  checkConfig(opts.config, opts.configFile);
  const dryRun = opts.dryRun === true;
  const source = await Registry2Root.open(opts.root);
  const skips: Skip[] = [];
  const driver = await (opts.driver ?? defaultDriver)(opts.config);

  let transfer = opts.transfer ?? 'link';
  let filesystemRoot: string | undefined;
  if (transfer !== 'stream' && opts.config.storage.driver === 'filesystem') {
    const root = nodePath.resolve(opts.config.storage.filesystem.rootdirectory);
    if ((await deviceOf(root)) === (await source.device())) filesystemRoot = root;
  }
  if (filesystemRoot === undefined && transfer !== 'stream') {
    opts.progress.note(`berth's storage (${opts.config.storage.driver}) is not on ROOT's filesystem: blobs are copied, not ${transfer === 'link' ? 'linked' : 'moved'}`);
    transfer = 'stream';
  }

  const repos = await source.repositories(skips);
  opts.progress.note(`${opts.root}: ${repos.length} repositories`);
  const blobCounts = emptyBlobCounts();
  const blobOptions: BlobPhaseOptions = {
    source,
    driver,
    ...(filesystemRoot !== undefined && { filesystemRoot }),
    transfer,
    dryRun,
    concurrency: opts.concurrency ?? 4,
    progress: opts.progress,
    skips,
  };
  const referenced = [...new Set(repos.flatMap((r) => [...r.layers, ...r.revisions.map((v) => v.digest)]))].sort();
  const held = await importBlobs(blobOptions, referenced, blobCounts);

  const manifests = new Map<string, ReadManifest>();
  const revisions = [...new Set(repos.flatMap((r) => r.revisions.map((v) => v.digest)))].sort();
  const reading = opts.progress.phase('manifests', revisions.length, 'manifests');
  for (const digest of revisions) {
    const size = held.get(digest);
    if (size !== undefined) manifests.set(digest, await readManifest(driver, source, digest, size));
    reading.tick(1);
  }
  reading.done();
  // Blobs a manifest needs that no `_layers` link names (distribution would not have taken the push; import them anyway).
  const known = new Set(referenced);
  const extra = [
    ...new Set([...manifests.values()].flatMap((m) => ('parsed' in m ? m.parsed.blobs.map((b) => b.digest) : [])).filter((d) => !known.has(d) && d.startsWith('sha256:'))),
  ].sort();
  if (extra.length > 0) for (const [digest, size] of await importBlobs(blobOptions, extra, blobCounts)) held.set(digest, size);

  const counts = emptyRecordCounts();
  const rejected = skips.filter((s) => s.kind === 'repository').length;
  counts.repositories.found += rejected;
  counts.repositories.skipped += rejected;
  const backend = await openMeta(opts.config, dryRun);
  try {
    const recording = opts.progress.phase('records', repos.length, 'repositories');
    for (const repo of repos) {
      await importRepository({ meta: backend.meta, repo, blobs: held, manifests, dryRun, overwriteTags: opts.overwriteTags === true, counts, skips });
      recording.tick(1);
    }
    recording.done();
  } finally {
    await backend.close();
  }

  const summary: ImportSummary = {
    root: opts.root,
    dryRun,
    transfer,
    ...counts,
    blobs: blobCounts,
    uploadsSkipped: repos.reduce((sum, r) => sum + r.uploads, 0),
    unreferencedBlobs: await source.unreferencedBlobs(new Set([...referenced, ...extra])),
    skipped: skips,
    seconds: (Date.now() - started) / 1000,
    upToDate: false,
    ok: skips.length === 0,
  };
  summary.upToDate = nothingNew(summary);
  return summary;
}
