/**
 * FilesystemDriver: the production StorageDriver; path /a/b maps to <root>/a/b.
 *
 * Durability: nothing is acknowledged as durable before it is. putContent writes a `.tmp-`
 * sibling, fdatasyncs it, renames it over the target and fsyncs the directory; move fsyncs
 * both directories; directories created on the way are fsynced into their parents; writers
 * (FilesystemWriter, below) fdatasync on commit. Directories exist only while they lead to a file:
 * delete, move and cancel prune parents that became empty (never the root), and creating a
 * file retries if a concurrent prune removed its directory in the meantime.
 * Missing paths always surface as PathNotFoundError. Paths are validated once by
 * withPathValidation (../base.ts), not here.
 */
import fs, { type FileHandle } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { randomBytes } from 'node:crypto';
import nodePath from 'node:path';
import { Readable } from 'node:stream';
import type { FileInfo, FileWriter, ReadOptions, StorageDriver } from '../driver.ts';
import { InvalidOffsetError, PathNotFoundError, StorageError } from '../driver.ts';
import { TEMP_PREFIX } from '../base.ts';

const MiB = 1024 * 1024;
const CREATE_ATTEMPTS = 4;
const APPEND = fs.constants.O_WRONLY | fs.constants.O_APPEND;
const CREATE = APPEND | fs.constants.O_CREAT | fs.constants.O_TRUNC;

export interface WriterTuning {
  /** Bytes coalesced before a write syscall (default 1 MiB). */
  bufferSize: number;
  /** Bytes written between background fdatasyncs (default 32 MiB). */
  syncInterval: number;
}

export type FilesystemDriverOptions = Partial<WriterTuning>;

export class FilesystemDriver implements StorageDriver {
  readonly name = 'filesystem';
  private readonly root: string;
  private readonly tuning: WriterTuning;

  constructor(rootDirectory: string, options: FilesystemDriverOptions = {}) {
    this.root = nodePath.resolve(rootDirectory);
    this.tuning = { bufferSize: options.bufferSize ?? MiB, syncInterval: options.syncInterval ?? 32 * MiB };
  }

  async getContent(path: string): Promise<Buffer> {
    return fs.readFile(this.full(path)).catch(notFound(path));
  }

  async putContent(path: string, content: Buffer): Promise<void> {
    const target = this.full(path);
    const dir = nodePath.dirname(target);
    const temp = tempSibling(target);
    try {
      await this.createIn(dir, () => writeDurably(temp, content));
      await fs.rename(temp, target);
    } catch (err) {
      await fs.rm(temp, { force: true }).catch(() => undefined); // keep the original error
      throw inTheWay(err, path);
    }
    await syncDirectory(dir);
  }

  async reader(path: string, opts: ReadOptions = {}): Promise<Readable> {
    // Open, then fstat the handle: the size checked is the size of the file streamed.
    const handle = await fs.open(this.full(path), 'r').catch(notFound(path));
    try {
      const info = await handle.stat();
      if (info.isDirectory()) throw new PathNotFoundError(path);
      const offset = opts.offset ?? 0;
      if (!Number.isSafeInteger(offset) || offset < 0 || offset > info.size) throw new InvalidOffsetError(path, offset);
      const end = Math.min(opts.end ?? info.size - 1, info.size - 1);
      if (!Number.isSafeInteger(end)) throw new InvalidOffsetError(path, end);
      if (end >= offset) return handle.createReadStream({ start: offset, end, highWaterMark: MiB });
    } catch (err) {
      await handle.close();
      throw err;
    }
    await handle.close();
    return Readable.from([]);
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    const full = this.full(path);
    const handle = append
      ? await fs.open(full, APPEND).catch(notFound(path))
      : await this.createIn(nodePath.dirname(full), () => fs.open(full, CREATE)).catch(throwInTheWay(path));
    try {
      const { size } = await handle.stat();
      return new FilesystemWriter(handle, full, size, this.tuning, () => this.removeFile(full));
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async stat(path: string): Promise<FileInfo> {
    const info = await fs.stat(this.full(path)).catch(notFound(path));
    const isDir = info.isDirectory();
    return { path, size: isDir ? 0 : info.size, modTime: info.mtime, isDir };
  }

  async list(path: string): Promise<string[]> {
    const names = await fs.readdir(this.full(path)).catch(path === '/' ? ifMissing([]) : notFound(path)); // lazy root
    return names.filter((name) => !name.startsWith(TEMP_PREFIX)).sort().map((name) => childPath(path, name));
  }

  async move(src: string, dst: string): Promise<void> {
    const from = this.full(src);
    const to = this.full(dst);
    const info = await fs.stat(from).catch(notFound(src));
    if (info.isDirectory()) throw new StorageError(`${src}: cannot move a directory`);
    if (from === to) return;
    try {
      await this.createIn(nodePath.dirname(to), () => fs.rename(from, to));
    } catch (err) {
      if (errnoOf(err) !== 'EXDEV') throw errnoOf(err) === 'ENOENT' ? new PathNotFoundError(src) : inTheWay(err, dst);
      await copyAcross(from, to);
    }
    await syncDirectory(nodePath.dirname(to));
    if (nodePath.dirname(from) !== nodePath.dirname(to)) await syncDirectory(nodePath.dirname(from));
    await this.prune(nodePath.dirname(from));
  }

  async delete(path: string): Promise<void> {
    const full = this.full(path);
    await fs.rm(full, { recursive: true }).catch(notFound(path));
    await this.prune(nodePath.dirname(full));
  }

  async redirectURL(_path: string, _method: 'GET' | 'HEAD'): Promise<string | undefined> {
    return undefined;
  }

  async walk(path: string, visit: (info: FileInfo) => Promise<void> | void): Promise<void> {
    const full = this.full(path);
    const info = await fs.stat(full).catch(path === '/' ? ifMissing(undefined) : notFound(path));
    if (info === undefined) return;
    if (!info.isDirectory()) throw new PathNotFoundError(path);
    await this.walkDirectory(path, full, visit);
  }

  private async walkDirectory(path: string, full: string, visit: (info: FileInfo) => Promise<void> | void): Promise<void> {
    const entries: Dirent[] = await fs.readdir(full, { withFileTypes: true }).catch(ifMissing([])); // removed meanwhile
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith(TEMP_PREFIX)) continue;
      const at = childPath(path, entry.name);
      const entryFull = nodePath.join(full, entry.name);
      if (entry.isDirectory()) {
        await this.walkDirectory(at, entryFull, visit);
      } else if (entry.isFile()) {
        const info = await fs.stat(entryFull).catch(ifMissing(undefined)); // removed meanwhile: skip
        if (info) await visit({ path: at, size: info.size, modTime: info.mtime, isDir: false });
      }
    }
  }

  private full(path: string): string {
    return path === '/' ? this.root : this.root + path;
  }

  /** Run `create` (which makes an entry in `dir`), making `dir` first if it is missing. */
  private async createIn<T>(dir: string, create: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await create();
      } catch (err) {
        if (errnoOf(err) !== 'ENOENT' || attempt === CREATE_ATTEMPTS) throw err;
      }
      await makeDirectories(dir);
    }
  }

  /** Remove now-empty directories from `dir` up to, not including, the root. Best effort. */
  private async prune(dir: string): Promise<void> {
    for (let at = dir; at.startsWith(this.root + nodePath.sep); at = nodePath.dirname(at)) {
      try {
        await fs.rmdir(at);
      } catch (err) {
        if (errnoOf(err) !== 'ENOENT') return; // ENOTEMPTY and anything else: stop here
      }
    }
  }

  private async removeFile(full: string): Promise<void> {
    await fs.rm(full, { force: true });
    await this.prune(nodePath.dirname(full));
  }
}

function childPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

function tempSibling(full: string): string {
  return nodePath.join(nodePath.dirname(full), TEMP_PREFIX + randomBytes(8).toString('hex'));
}

function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** For reads, a .catch handler: nothing (or a directory where a file should be) at `path`. */
function notFound(path: string): (err: unknown) => never {
  return (err) => {
    const code = errnoOf(err);
    throw code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' ? new PathNotFoundError(path) : err;
  };
}

/** A .catch handler for entries that may vanish concurrently: missing yields `fallback`. */
function ifMissing<T>(fallback: T): (err: unknown) => T {
  return (err) => {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return fallback;
    throw err;
  };
}

/** For writes: a file or directory blocks the path. */
function inTheWay(err: unknown, path: string): unknown {
  const code = errnoOf(err);
  if (code === 'EISDIR' || code === 'ENOTDIR' || code === 'EEXIST' || code === 'ENOTEMPTY') {
    return new StorageError(`${path}: a file or directory is in the way`, { cause: err });
  }
  return code === 'ENOENT' ? new PathNotFoundError(path) : err;
}

function throwInTheWay(path: string): (err: unknown) => never {
  return (err) => {
    throw inTheWay(err, path);
  };
}

async function withHandle<T>(full: string, flags: string | number, use: (handle: FileHandle) => Promise<T>): Promise<T> {
  const handle = await fs.open(full, flags);
  try {
    return await use(handle);
  } finally {
    await handle.close();
  }
}

/** fsync a directory so the entries created, renamed or removed in it survive a crash. */
async function syncDirectory(dir: string): Promise<void> {
  await withHandle(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY, (handle) => handle.sync());
}

/** mkdir -p, then fsync the parent of every directory it created so they survive a crash. */
async function makeDirectories(dir: string): Promise<void> {
  const first = await fs.mkdir(dir, { recursive: true }).catch(ifMissing(undefined)); // pruned: caller retries
  if (first === undefined) return;
  for (let created = dir; created.length >= first.length; created = nodePath.dirname(created)) {
    await syncDirectory(nodePath.dirname(created)).catch(ifMissing(undefined));
  }
}

async function writeDurably(full: string, content: Buffer): Promise<void> {
  await withHandle(full, 'wx', async (handle) => {
    await handle.writeFile(content);
    await handle.datasync();
  });
}

/** Rename across filesystems: copy to a temp sibling of `to`, fdatasync, rename, unlink `from`. */
async function copyAcross(from: string, to: string): Promise<void> {
  const temp = tempSibling(to);
  try {
    await fs.copyFile(from, temp, fs.constants.COPYFILE_EXCL);
    await withHandle(temp, 'r+', (handle) => handle.datasync());
    await fs.rename(temp, to);
  } catch (err) {
    await fs.rm(temp, { force: true }).catch(() => undefined); // keep the original error
    throw err;
  }
  await fs.rm(from, { force: true });
}

type WriterState = 'open' | 'finishing' | 'closed' | 'committed' | 'cancelled';

/**
 * An append-only writer on an O_APPEND FileHandle. Small writes are coalesced into one buffer
 * of `bufferSize` bytes per write syscall; every `syncInterval` bytes an fdatasync starts in
 * the background (at most one at a time) so that commit() only has a short tail to sync.
 * Calls run one after another, so `size` is exact: bytes in the file plus bytes buffered.
 */
class FilesystemWriter implements FileWriter {
  private state: WriterState = 'open';
  private buffer: Buffer | undefined;
  private buffered = 0;
  private written: number;
  private unsynced = 0;
  private syncing: Promise<void> | undefined;
  private syncFailure: { error: unknown } | undefined;
  private queue: Promise<void> = Promise.resolve();
  private handleOpen = true;

  constructor(
    private readonly handle: FileHandle,
    private readonly full: string,
    initialSize: number,
    private readonly tuning: WriterTuning,
    private readonly discard: () => Promise<void>,
  ) {
    this.written = initialSize;
  }

  get size(): number {
    return this.written + this.buffered;
  }

  async write(chunk: Buffer): Promise<void> {
    this.expectOpen();
    return this.serialized(() => this.append(chunk));
  }

  async commit(): Promise<void> {
    this.expectOpen();
    this.state = 'finishing';
    try {
      await this.release(async () => {
        await this.flush();
        await this.settleSync();
        await this.handle.datasync();
      });
      await syncDirectory(nodePath.dirname(this.full)); // the entry of a file created by writer()
    } catch (err) {
      this.state = 'closed'; // the bytes stay for a later append-open or cancel
      throw err;
    }
    this.state = 'committed';
  }

  async close(): Promise<void> {
    this.expectOpen();
    this.state = 'closed';
    await this.release(async () => {
      await this.flush();
      await this.settleSync();
    });
  }

  async cancel(): Promise<void> {
    if (this.state !== 'open' && this.state !== 'closed') throw new StorageError(`writer already ${this.state}`);
    this.state = 'cancelled';
    if (this.handleOpen) await this.release(async () => this.syncing).catch(() => undefined);
    await this.discard();
  }

  private expectOpen(): void {
    if (this.state !== 'open') throw new StorageError(`writer already ${this.state}`);
  }

  /** Queue `task` after every earlier call; once one fails, all later ones fail with it. */
  private serialized(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task);
    this.queue = run;
    return run;
  }

  /** Run `last` after the queued writes, then close the handle whatever happened. */
  private async release(last: () => Promise<void>): Promise<void> {
    try {
      await this.serialized(last);
    } finally {
      this.handleOpen = false;
      this.buffer = undefined;
      this.buffered = 0;
      await this.handle.close();
    }
  }

  private async append(chunk: Buffer): Promise<void> {
    if (this.syncFailure) throw this.syncFailure.error;
    const capacity = this.tuning.bufferSize;
    if (this.buffered + chunk.length < capacity) {
      chunk.copy(this.pending(), this.buffered);
      this.buffered += chunk.length;
    } else if (chunk.length >= capacity) {
      await this.writeOut(this.buffered > 0 ? [this.pending().subarray(0, this.buffered), chunk] : [chunk]);
    } else {
      const room = capacity - this.buffered;
      chunk.copy(this.pending(), this.buffered, 0, room);
      this.buffered = capacity;
      await this.flush();
      chunk.copy(this.pending(), 0, room);
      this.buffered = chunk.length - room;
    }
  }

  private pending(): Buffer {
    this.buffer ??= Buffer.allocUnsafe(this.tuning.bufferSize);
    return this.buffer;
  }

  private async flush(): Promise<void> {
    if (this.buffered > 0) await this.writeOut([this.pending().subarray(0, this.buffered)]);
  }

  /** One writev of `buffers` (finishing a short write), then maybe a background fdatasync. */
  private async writeOut(buffers: Buffer[]): Promise<void> {
    let skip = (await this.handle.writev(buffers)).bytesWritten;
    let total = 0;
    for (const buffer of buffers) {
      total += buffer.length;
      for (let at = Math.min(skip, buffer.length); at < buffer.length; ) {
        at += (await this.handle.write(buffer, at, buffer.length - at)).bytesWritten;
      }
      skip = Math.max(0, skip - buffer.length);
    }
    this.written += total;
    this.buffered = 0;
    this.unsynced += total;
    if (this.unsynced >= this.tuning.syncInterval && this.syncing === undefined) {
      this.unsynced = 0;
      this.syncing = this.handle.datasync().then(
        () => {
          this.syncing = undefined;
        },
        (error: unknown) => {
          this.syncing = undefined;
          this.syncFailure = { error };
        },
      );
    }
  }

  private async settleSync(): Promise<void> {
    await this.syncing;
    if (this.syncFailure) throw this.syncFailure.error;
  }
}
