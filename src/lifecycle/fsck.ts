/**
 * `berth fsck`: hold the meta store and storage against each other, both ways, and check every
 * blob's bytes against its digest.
 *
 *   missing       a blob the meta store records whose file storage lacks
 *   corrupt       a recorded blob whose file's size or digest is not the record's
 *   torn-journal  a journaled blob whose file is missing or corrupt (the journal's copy restores
 *                 it), or whose journal copy does not hash to its digest (the file may be fine)
 *   orphan        a file in the blob layout that nothing records
 *   stray         a file under the blob root that is not in the layout at all
 *   dangling      a manifest's reference to a blob or child manifest the meta store lacks
 *
 * One pass: the driver's walk of the blob layout (sorted, so in digest order) merged with the
 * blob records read a page at a time, each file present on both sides hashed as it streams, a
 * few at a time. It runs beside a serving berth: anything found missing or unrecorded is looked
 * at again at the end, so a push or a garbage collection meanwhile is not taken for a problem.
 * --repair (fsck-repair.ts) then fixes what it can.
 */
import { digestOf } from '../registry/digest.ts';
import { PathNotFoundError, pathExists, type StorageDriver } from '../storage/driver.ts';
import { BLOBS_ROOT } from '../storage/paths.ts';
import type { BlobInventory, InventoryBlob } from '../meta/inventory.ts';
import type { MetaStore } from '../meta/store.ts';
import type { Progress } from '../migrate/progress.ts';
import { digestOfPath, hashStored, pathOfDigest, RecordCursor, TaskPool } from './fsck-scan.ts';
import { repairProblems } from './fsck-repair.ts';

export type ProblemKind = 'missing' | 'corrupt' | 'torn-journal' | 'orphan' | 'stray' | 'dangling';

export interface Problem {
  kind: ProblemKind;
  /** The storage path concerned. */
  path: string;
  digest?: string;
  /** What is wrong, for a person. */
  detail: string;
  /** The manifests that need the blob (repository@digest), for a missing or corrupt one. */
  neededBy?: string[];
  /** Whether the file exists (corrupt, torn-journal), for the repair. */
  present?: boolean;
  /** The file's modification time (orphan, stray; ms since epoch). */
  modTime?: number;
  /** What --repair did, or why it left it. */
  repair?: string;
  fixed: boolean;
}

export interface FsckReport {
  repair: boolean;
  /** Blob records checked, and their bytes. */
  blobs: number;
  bytes: number;
  /** Files found under the blob root. */
  files: number;
  problems: Problem[];
  /** Problems --repair fixed, and those left. */
  fixed: number;
  remaining: number;
  seconds: number;
  /** No problem left. */
  ok: boolean;
}

export interface FsckOptions {
  driver: StorageDriver;
  meta: MetaStore;
  inventory: BlobInventory;
  /** Fix what can be fixed (fsck-repair.ts). */
  repair?: boolean;
  /** With repair: delete orphan and stray files older than orphanGraceMs (else left: garbage collection reads the meta store, not storage, so nothing else removes them). */
  deleteOrphans?: boolean;
  /** A file younger than this may be a push in flight: never deleted (default 1 h). */
  orphanGraceMs?: number;
  /** Files hashed at once (default 4). */
  concurrency?: number;
  progress: Progress;
  now?: () => number;
}

export const DEFAULT_ORPHAN_GRACE_MS = 60 * 60 * 1000;
const DANGLING_LIMIT = 1000;
const JOURNAL_PAGE = 64;

/** Scan state: what was found so far, and what must be looked at again at the end. */
interface Scan {
  problems: Problem[];
  /** missing or corrupt, by digest (few), so that the journal pass can amend them. */
  bad: Map<string, Problem>;
  /** Records with no file, and files with no record, when first seen. */
  absent: InventoryBlob[];
  unrecorded: { digest: string; path: string; size: number; modTime: number }[];
  files: number;
}

async function verify(opts: FsckOptions, scan: Scan, record: InventoryBlob, path: string, tick: (n: number) => void): Promise<void> {
  const algorithm = record.digest.slice(0, record.digest.indexOf(':'));
  const hashed = await hashStored(opts.driver, path, algorithm, tick);
  if (hashed === undefined) {
    scan.absent.push(record); // removed meanwhile: looked at again at the end
    return;
  }
  if (hashed.size === record.size && hashed.digest === record.digest) return;
  const detail = hashed.size !== record.size ? `holds ${hashed.size} bytes, the record says ${record.size}` : `its bytes hash to ${hashed.digest}`;
  const problem: Problem = { kind: 'corrupt', path, digest: record.digest, detail, present: true, fixed: false };
  scan.problems.push(problem);
  scan.bad.set(record.digest, problem);
}

/** The merged walk: every blob record against every file of the blob layout. */
async function walkBlobs(opts: FsckOptions, scan: Scan, tick: (n: number) => void): Promise<void> {
  const cursor = new RecordCursor(opts.inventory);
  const pool = new TaskPool(opts.concurrency ?? 4);
  const upTo = async (digest: string | undefined): Promise<InventoryBlob | undefined> => {
    for (let r = await cursor.peek(); r !== undefined; r = await cursor.peek()) {
      if (digest !== undefined && r.digest >= digest) return r;
      scan.absent.push(r);
      cursor.next();
    }
    return undefined;
  };
  try {
    await opts.driver.walk(BLOBS_ROOT, async (info) => {
      scan.files++;
      const digest = digestOfPath(info.path);
      if (digest === undefined) {
        scan.problems.push({ kind: 'stray', path: info.path, detail: 'a file outside the blob layout', modTime: info.modTime.getTime(), fixed: false });
        return;
      }
      const record = await upTo(digest);
      if (record?.digest === digest) {
        cursor.next();
        await pool.add(() => verify(opts, scan, record, info.path, tick));
      } else {
        scan.unrecorded.push({ digest, path: info.path, size: info.size, modTime: info.modTime.getTime() });
      }
    });
  } catch (err) {
    if (!(err instanceof PathNotFoundError)) throw err; // no blob root: every record is absent
  }
  await upTo(undefined);
  await pool.drain();
}

/** Look again at what was missing on one side: a push or a collection may have been under way. */
async function settle(opts: FsckOptions, scan: Scan, tick: (n: number) => void): Promise<void> {
  for (const record of scan.absent) {
    const path = pathOfDigest(record.digest);
    if (path === undefined) {
      scan.problems.push({ kind: 'corrupt', path: '', digest: record.digest, detail: 'the record is not a digest berth stores', fixed: false });
      continue;
    }
    if ((await opts.meta.getBlob(record.digest)) === undefined) continue; // collected meanwhile
    if (await pathExists(opts.driver, path)) {
      await verify(opts, { ...scan, absent: [] }, record, path, tick); // written meanwhile
      continue;
    }
    const problem: Problem = { kind: 'missing', path, digest: record.digest, detail: `storage lacks its ${record.size} bytes`, present: false, fixed: false };
    scan.problems.push(problem);
    scan.bad.set(record.digest, problem);
  }
  for (const file of scan.unrecorded) {
    if ((await opts.meta.getBlob(file.digest)) !== undefined) continue; // recorded meanwhile: a push
    if (await opts.inventory.collecting(file.digest)) continue; // garbage collection is deleting it
    scan.problems.push({ kind: 'orphan', path: file.path, digest: file.digest, detail: `${file.size} bytes nothing records`, modTime: file.modTime, fixed: false });
  }
}

/** Journal entries whose file is missing or corrupt (restorable) or whose copy is bad; returns the good copies by digest. */
async function checkJournal(opts: FsckOptions, scan: Scan): Promise<Map<string, Buffer>> {
  const copies = new Map<string, Buffer>();
  for (let after = '', page = await opts.inventory.journal(after, JOURNAL_PAGE); page.length > 0; page = await opts.inventory.journal(after, JOURNAL_PAGE)) {
    for (const entry of page) {
      after = entry.digest;
      const path = pathOfDigest(entry.digest);
      if (path === undefined) continue;
      const algorithm = entry.digest.slice(0, entry.digest.indexOf(':')) as 'sha256' | 'sha512';
      const data = Buffer.from(entry.data);
      const bad = scan.bad.get(entry.digest);
      if (digestOf(data, algorithm) === entry.digest) {
        if (bad === undefined) continue;
        bad.kind = 'torn-journal';
        bad.detail = `${bad.detail}; the blob journal holds a good copy`;
        copies.set(entry.digest, data);
      } else {
        const detail = `the blob journal's copy (${data.length} bytes) does not hash to its digest${bad === undefined ? '; the file is intact' : ''}`;
        scan.problems.push({ kind: 'torn-journal', path, digest: entry.digest, detail, present: bad === undefined, fixed: false });
      }
    }
  }
  return copies;
}

/** The manifests that need each blob found missing or corrupt, and references to nothing at all. */
async function checkManifests(opts: FsckOptions, scan: Scan): Promise<void> {
  for (const problem of scan.bad.values()) {
    if (problem.digest === undefined) continue;
    const uses = await opts.inventory.usesOf(problem.digest);
    problem.neededBy = uses.filter((u) => u.kind !== 'link' && u.manifest !== undefined).map((u) => `${u.repository}@${u.manifest}`);
  }
  for (const ref of await opts.inventory.danglingReferences(DANGLING_LIMIT)) {
    const what = ref.kind === 'child' ? 'child manifest' : 'blob';
    scan.problems.push({
      kind: 'dangling',
      path: pathOfDigest(ref.target) ?? '',
      digest: ref.target,
      detail: `${ref.repository}@${ref.manifest} references ${what} ${ref.target}, which the meta store does not record`,
      neededBy: [`${ref.repository}@${ref.manifest}`],
      fixed: false,
    });
  }
}

export async function fsck(opts: FsckOptions): Promise<FsckReport> {
  const now = opts.now ?? Date.now;
  const started = now();
  const totals = await opts.inventory.totals();
  const scan: Scan = { problems: [], bad: new Map(), absent: [], unrecorded: [], files: 0 };
  const phase = opts.progress.phase('verify', totals.bytes, 'bytes');
  const tick = (n: number): void => phase.tick(n);
  await walkBlobs(opts, scan, tick);
  await settle(opts, scan, tick);
  phase.done();
  const copies = await checkJournal(opts, scan);
  await checkManifests(opts, scan);
  const repair = opts.repair === true;
  if (repair) {
    await repairProblems(scan.problems, {
      driver: opts.driver,
      meta: opts.meta,
      inventory: opts.inventory,
      copies,
      deleteOrphans: opts.deleteOrphans === true,
      orphansBefore: now() - (opts.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS),
      now,
    });
  }
  const fixed = scan.problems.filter((p) => p.fixed).length;
  const remaining = scan.problems.length - fixed;
  return { repair, blobs: totals.blobs, bytes: totals.bytes, files: scan.files, problems: scan.problems, fixed, remaining, seconds: (now() - started) / 1000, ok: remaining === 0 };
}
