/**
 * Tar archives for the file transports (oci-archive, docker-archive), read without extracting.
 *
 * `TarIndex.open` reads an archive's headers once with tar-stream and keeps where each entry's
 * bytes start; an entry is then read straight from the file at its offset (fs.createReadStream
 * start/end), so a blob is streamed once and nothing is written beside the archive. The index
 * pass does read the archive through (tar-stream cannot seek past an entry's data), at the speed
 * of a sequential read and without keeping any of it.
 *
 * `packDirectory` writes a directory tree as a tar, atomically: into a temporary file beside the
 * target, fsynced, then renamed over it.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { extract, pack, type Header } from 'tar-stream';
import { CopyError } from './transport.ts';

export interface TarEntryInfo {
  /** Its path, normalised: no leading `./` or `/`, no trailing `/`. */
  name: string;
  type: Header['type'];
  size: number;
  /** Where its bytes start in the archive file. */
  offset: number;
  linkname: string;
}

/** An archive's path as a key: `./blobs/sha256/x` and `blobs/sha256/x` are the same entry. */
export function normalizeTarPath(name: string): string {
  let path = posix.normalize(name.replace(/^(\.\/|\/)+/, ''));
  if (path.endsWith('/')) path = path.slice(0, -1);
  return path === '.' ? '' : path;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** Throws a CopyError when `head` (an archive's first bytes) is gzip: the transports read plain tars only. */
export function refuseCompressed(head: Buffer, description: string): void {
  if (head.length >= 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) {
    throw new CopyError('BERTH_COPY_ARCHIVE_COMPRESSED', `${description}: the archive is gzip-compressed; decompress it first (gunzip)`);
  }
}

/**
 * Every entry of a tar stream, in order: `onEntry` gets its header and a body it must read or
 * resume; the next entry comes once it has and `onEntry` has returned.
 */
export async function scanTar(input: Readable, onEntry: (info: TarEntryInfo, body: Readable) => Promise<void>): Promise<void> {
  const parser = extract();
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser as unknown as NodeJS.WritableStream);
  for await (const entry of parser) {
    const { header } = entry;
    const info: TarEntryInfo = {
      name: normalizeTarPath(header.name),
      type: header.type,
      size: header.size,
      offset: entry.offset + 512,
      linkname: header.linkname,
    };
    await onEntry(info, entry as unknown as Readable);
  }
}

/** The headers of a tar file, by path, and its entries' bytes read at their offsets. */
export class TarIndex {
  private constructor(
    readonly file: string,
    readonly entries: Map<string, TarEntryInfo>,
  ) {}

  static async open(file: string, description: string): Promise<TarIndex> {
    const handle = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
      throw new CopyError('BERTH_COPY_NOT_FOUND', `${description}: cannot open ${file}: ${err.code ?? err.message}`);
    });
    try {
      const head = Buffer.alloc(2);
      await handle.read(head, 0, 2, 0);
      refuseCompressed(head, description);
    } finally {
      await handle.close();
    }
    const entries = new Map<string, TarEntryInfo>();
    try {
      await scanTar(createReadStream(file), async (info, body) => {
        entries.set(info.name, info);
        body.resume();
      });
    } catch (err) {
      throw new CopyError('BERTH_COPY_ARCHIVE_INVALID', `${description}: not a readable tar archive: ${(err as Error).message}`);
    }
    return new TarIndex(file, entries);
  }

  /** The regular file at `path`, following symbolic and hard links within the archive. */
  find(path: string): TarEntryInfo | undefined {
    let name = normalizeTarPath(path);
    for (let hops = 0; hops < 16; hops++) {
      const entry = this.entries.get(name);
      if (entry === undefined) return undefined;
      if (entry.type === 'file' || entry.type === 'contiguous-file') return entry;
      if (entry.type === 'symlink') name = normalizeTarPath(posix.join(posix.dirname(name), entry.linkname));
      else if (entry.type === 'link') name = normalizeTarPath(entry.linkname);
      else return undefined;
    }
    return undefined;
  }

  /** The bytes of `entry` from `offset` on. */
  read(entry: TarEntryInfo, offset = 0): Readable {
    if (offset >= entry.size) return Readable.from([]);
    return createReadStream(this.file, { start: entry.offset + offset, end: entry.offset + entry.size - 1 });
  }

  /** The whole file at `path` when it is at most `limit` bytes; undefined when absent. */
  async readAll(path: string, limit: number, description: string): Promise<Buffer | undefined> {
    const entry = this.find(path);
    if (entry === undefined) return undefined;
    if (entry.size > limit) throw new CopyError('BERTH_COPY_TOO_LARGE', `${description}: ${path} is ${entry.size} bytes, more than ${limit}`);
    const handle = await open(this.file, 'r');
    try {
      const out = Buffer.alloc(entry.size);
      let done = 0;
      while (done < entry.size) {
        const { bytesRead } = await handle.read(out, done, entry.size - done, entry.offset + done);
        if (bytesRead === 0) throw new CopyError('BERTH_COPY_ARCHIVE_INVALID', `${description}: ${path} is cut short`);
        done += bytesRead;
      }
      return out;
    } finally {
      await handle.close();
    }
  }
}

/** The files under `dir`, relative and sorted, directories before what they hold. */
async function walk(dir: string, prefix = ''): Promise<{ path: string; dir: boolean }[]> {
  const out: { path: string; dir: boolean }[] = [];
  const names = (await readdir(join(dir, prefix), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of names) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) {
      out.push({ path, dir: true });
      out.push(...(await walk(dir, path)));
    } else if (entry.isFile()) {
      out.push({ path, dir: false });
    }
  }
  return out;
}

const EPOCH = new Date(0);

/**
 * Writes the tree under `dir` as a tar at `file` (fixed owner 0:0 and time, sorted paths, so
 * the same tree gives the same bytes), atomically: a temporary file beside `file`, then rename.
 */
export async function packDirectory(dir: string, file: string): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const tarball = pack();
  const out = createWriteStream(temp, { mode: 0o644 });
  const written = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
    tarball.on('error', reject);
  });
  tarball.pipe(out);
  try {
    const filling = (async () => {
      for (const item of await walk(dir)) {
        if (item.dir) {
          await new Promise<void>((resolve, reject) => {
            tarball.entry({ name: `${item.path}/`, type: 'directory', mode: 0o755, mtime: EPOCH, uid: 0, gid: 0 }, (err) => (err ? reject(err) : resolve()));
          });
          continue;
        }
        const path = join(dir, item.path);
        const { size } = await stat(path);
        await new Promise<void>((resolve, reject) => {
          const sink = tarball.entry({ name: item.path, size, mode: 0o644, mtime: EPOCH, uid: 0, gid: 0 }, (err) => (err ? reject(err) : resolve()));
          const source = createReadStream(path);
          source.on('error', (err) => {
            sink.destroy(err);
            reject(err);
          });
          source.pipe(sink as unknown as NodeJS.WritableStream);
        });
      }
      tarball.finalize();
    })();
    await Promise.all([filling, written]);
    const handle = await open(temp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    tarball.destroy();
    out.destroy();
    await rm(temp, { force: true });
    throw err;
  }
}
