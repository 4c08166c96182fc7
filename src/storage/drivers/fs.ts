/**
 * FilesystemDriver: the production StorageDriver; path /a/b maps to <root>/a/b.
 *
 * Durability: nothing is acknowledged as durable before it is. putContent writes a `.tmp-`
 * sibling, fdatasyncs it, renames it over the target and fsyncs the directory; move fsyncs
 * both directories; directories created on the way are fsynced into their parents; writers
 * (FilesystemWriter, fs-writer.ts) fdatasync on commit. Directories exist only while they lead to a file:
 * delete and cancel prune parents that became empty (never the root; move leaves the source's
 * directory for the next file), and creating a
 * file retries if a concurrent prune removed its directory in the meantime.
 * Missing paths always surface as PathNotFoundError. Paths are validated once by
 * withPathValidation (../base.ts), not here.
 */
import fs from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import nodePath from 'node:path';
import { Readable } from 'node:stream';
import type { FileInfo, FileWriter, OpenFile, PutOptions, ReadOptions, StorageDriver, WriterOptions } from '../driver.ts';
import { InvalidOffsetError, PathNotFoundError, StorageError } from '../driver.ts';
import { TEMP_PREFIX } from '../base.ts';
import { FilesystemWriter, type DirectWrites, type WriterTuning } from './fs-writer.ts';
import { alignedPool, alignUp, directIOAvailable, openDirect } from './fs-direct.ts';
import {
  childPath,
  copyAcross,
  errnoOf,
  ifMissing,
  inTheWay,
  makeDirectories,
  notFound,
  syncDirectory,
  tempSibling,
  throwInTheWay,
  withHandle,
  writeNew,
} from './fs-util.ts';

const MiB = 1024 * 1024;
const CREATE_ATTEMPTS = 4;
const APPEND = fs.constants.O_WRONLY | fs.constants.O_APPEND;
const CREATE = APPEND | fs.constants.O_CREAT | fs.constants.O_TRUNC;

export type { WriterTuning };

export type FilesystemDriverOptions = Partial<WriterTuning>;

export class FilesystemDriver implements StorageDriver {
  readonly name = 'filesystem';
  private readonly root: string;
  private readonly tuning: WriterTuning;

  constructor(rootDirectory: string, options: FilesystemDriverOptions = {}) {
    this.root = nodePath.resolve(rootDirectory);
    const directIO = (options.directIO ?? true) && directIOAvailable;
    // Direct writes are synchronous to the device: 2 MiB per write where dd here did 1.3-2x the
    // rate of 1 MiB writes (O_DIRECT, one at a time). Buffered writes only fill the page cache.
    this.tuning = { bufferSize: options.bufferSize ?? (directIO ? 2 * MiB : MiB), syncInterval: options.syncInterval ?? 32 * MiB, directIO };
  }

  async getContent(path: string): Promise<Buffer> {
    return fs.readFile(this.full(path)).catch(notFound(path));
  }

  async putContent(path: string, content: Buffer, opts: PutOptions = {}): Promise<void> {
    const durable = opts.durable ?? true;
    const target = this.full(path);
    const dir = nodePath.dirname(target);
    const temp = tempSibling(target);
    try {
      await this.createIn(dir, () => writeNew(temp, content, durable));
      await fs.rename(temp, target);
    } catch (err) {
      await fs.rm(temp, { force: true }).catch(() => undefined); // keep the original error
      throw inTheWay(err, path);
    }
    if (durable) await syncDirectory(dir);
  }

  /** fdatasync every file, then fsync each of their directories once. */
  async flush(paths: string[]): Promise<string[]> {
    const dirs = new Set<string>();
    const missing: string[] = [];
    for (const path of paths) {
      const full = this.full(path);
      const flushed = await withHandle(full, 'r', (handle) => handle.datasync()).then(
        () => true,
        ifMissing(false),
      );
      if (flushed) dirs.add(nodePath.dirname(full));
      else missing.push(path);
    }
    for (const dir of dirs) await syncDirectory(dir).catch(ifMissing(undefined));
    return missing;
  }

  async openFile(path: string): Promise<OpenFile | undefined> {
    const handle = await fs.open(this.full(path), 'r').catch(notFound(path));
    const info = await handle.stat().catch(async (err: unknown) => {
      await handle.close();
      throw err;
    });
    if (info.isDirectory()) {
      await handle.close();
      throw new PathNotFoundError(path);
    }
    return { fd: handle.fd, size: info.size, close: () => handle.close() };
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

  async writer(path: string, append: boolean, opts: WriterOptions = {}): Promise<FileWriter> {
    const full = this.full(path);
    const handle = append
      ? await fs.open(full, APPEND).catch(notFound(path))
      : await this.createIn(nodePath.dirname(full), () => fs.open(full, CREATE)).catch(throwInTheWay(path));
    let direct: DirectWrites | undefined;
    try {
      const { size } = await handle.stat();
      // A deferred writer's commit is off the client's path: it keeps the page cache's speed.
      const tuning = opts.deferSync === true ? { ...this.tuning, syncInterval: Infinity } : this.tuning;
      if (this.tuning.directIO && opts.deferSync !== true) {
        const directHandle = await openDirect(full);
        if (directHandle !== undefined) direct = { handle: directHandle, pool: alignedPool(alignUp(this.tuning.bufferSize)) };
      }
      return new FilesystemWriter(handle, full, size, tuning, () => this.removeFile(full), !append, direct);
    } catch (err) {
      await direct?.handle.close();
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
    // Syncing the destination directory makes the new name durable. The source directory is not
    // synced: at worst a crash brings back the old name of a file that is also at the new one,
    // an orphan the upload purger removes, and a sync per move costs small pushes dearly.
    await syncDirectory(nodePath.dirname(to));
    // The source's directory is left in place, even empty: the next upload reuses it instead of
    // creating it again (a mkdir and a directory fsync per push). delete and cancel still prune.
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
