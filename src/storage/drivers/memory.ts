/**
 * MemoryDriver: an in-memory StorageDriver for tests and `storage.inmemory`. It keeps a tree of
 * directories and files and behaves like the filesystem driver: directories exist only while
 * they lead to a file (emptied parents are pruned), a directory where a file is expected reads
 * as not found, and writing where a file or directory is in the way is a StorageError.
 * Paths are validated once by withPathValidation (../base.ts), not here.
 */
import { Readable } from 'node:stream';
import type { FileInfo, FileWriter, OpenFile, PutOptions, ReadOptions, StorageDriver } from '../driver.ts';
import { InvalidOffsetError, PathNotFoundError, StorageError } from '../driver.ts';

interface MemFile {
  kind: 'file';
  chunks: Buffer[];
  size: number;
  modTime: Date;
}

interface MemDir {
  kind: 'dir';
  children: Map<string, MemNode>;
  modTime: Date;
}

type MemNode = MemFile | MemDir;

const READ_CHUNK = 1024 * 1024;

function segmentsOf(path: string): string[] {
  return path === '/' ? [] : path.slice(1).split('/');
}

function childPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

function conflict(path: string): StorageError {
  return new StorageError(`${path}: a file or directory is in the way`);
}

/** The file's bytes as one buffer (chunks are merged on first read). */
function contentOf(file: MemFile): Buffer {
  if (file.chunks.length !== 1) file.chunks = [Buffer.concat(file.chunks, file.size)];
  return file.chunks[0] ?? Buffer.alloc(0);
}

export class MemoryDriver implements StorageDriver {
  readonly name = 'inmemory';
  private readonly root: MemDir = { kind: 'dir', children: new Map(), modTime: new Date() };

  async getContent(path: string): Promise<Buffer> {
    return Buffer.from(contentOf(this.file(path)));
  }

  /** Memory is never durable; durable: false changes nothing here. */
  async putContent(path: string, content: Buffer, _opts?: PutOptions): Promise<void> {
    const { dir, name } = this.makeParent(path);
    if (dir.children.get(name)?.kind === 'dir') throw conflict(path);
    dir.children.set(name, { kind: 'file', chunks: [Buffer.from(content)], size: content.length, modTime: new Date() });
    dir.modTime = new Date();
  }

  /** No local files: readers stream from memory. */
  async openFile(path: string): Promise<OpenFile | undefined> {
    this.file(path);
    return undefined;
  }

  async flush(paths: string[]): Promise<string[]> {
    const missing: string[] = [];
    for (const path of paths) {
      try {
        this.file(path);
      } catch (err) {
        if (!(err instanceof PathNotFoundError)) throw err;
        missing.push(path);
      }
    }
    return missing;
  }

  async reader(path: string, opts: ReadOptions = {}): Promise<Readable> {
    const data = contentOf(this.file(path));
    const offset = opts.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > data.length) throw new InvalidOffsetError(path, offset);
    const end = opts.end ?? data.length - 1;
    if (!Number.isSafeInteger(end)) throw new InvalidOffsetError(path, end);
    const slice = data.subarray(offset, Math.max(offset, Math.min(end + 1, data.length)));
    return Readable.from(chunked(slice));
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    if (append) return new MemoryWriter(this.file(path), () => this.removeFile(path));
    const { dir, name } = this.makeParent(path);
    const existing = dir.children.get(name);
    if (existing?.kind === 'dir') throw conflict(path);
    const file: MemFile = existing ?? { kind: 'file', chunks: [], size: 0, modTime: new Date() };
    file.chunks = [];
    file.size = 0;
    file.modTime = new Date();
    dir.children.set(name, file);
    return new MemoryWriter(file, () => this.removeFile(path));
  }

  async stat(path: string): Promise<FileInfo> {
    const node = this.find(path);
    if (!node) throw new PathNotFoundError(path);
    const isDir = node.kind === 'dir';
    return { path, size: isDir ? 0 : node.size, modTime: node.modTime, isDir };
  }

  async list(path: string): Promise<string[]> {
    return [...this.directory(path).children.keys()].sort().map((name) => childPath(path, name));
  }

  async move(src: string, dst: string): Promise<void> {
    const node = this.find(src);
    if (!node) throw new PathNotFoundError(src);
    if (node.kind === 'dir') throw conflict(src);
    if (src === dst) return;
    const { dir, name } = this.makeParent(dst);
    if (dir.children.get(name)?.kind === 'dir') throw conflict(dst);
    this.remove(src);
    dir.children.set(name, node);
    dir.modTime = new Date();
  }

  async delete(path: string): Promise<void> {
    if (!this.find(path)) throw new PathNotFoundError(path);
    this.remove(path);
  }

  async redirectURL(_path: string, _method: 'GET' | 'HEAD'): Promise<string | undefined> {
    return undefined;
  }

  async walk(path: string, visit: (info: FileInfo) => Promise<void> | void): Promise<void> {
    const dir = this.directory(path);
    for (const name of [...dir.children.keys()].sort()) {
      const child = dir.children.get(name); // re-read: visit may have removed it
      const at = childPath(path, name);
      if (child?.kind === 'dir') await this.walk(at, visit);
      else if (child) await visit({ path: at, size: child.size, modTime: child.modTime, isDir: false });
    }
  }

  private find(path: string): MemNode | undefined {
    let node: MemNode | undefined = this.root;
    for (const segment of segmentsOf(path)) {
      if (node?.kind !== 'dir') return undefined;
      node = node.children.get(segment);
    }
    return node;
  }

  private file(path: string): MemFile {
    const node = this.find(path);
    if (node?.kind !== 'file') throw new PathNotFoundError(path);
    return node;
  }

  private directory(path: string): MemDir {
    const node = this.find(path);
    if (node?.kind !== 'dir') throw new PathNotFoundError(path);
    return node;
  }

  /** mkdir -p of the parent of `path`; a file in the way is a conflict. */
  private makeParent(path: string): { dir: MemDir; name: string } {
    const segments = segmentsOf(path);
    const name = segments.pop() ?? '';
    let dir = this.root;
    for (const segment of segments) {
      let next = dir.children.get(segment);
      if (!next) {
        next = { kind: 'dir', children: new Map(), modTime: new Date() };
        dir.children.set(segment, next);
        dir.modTime = new Date();
      }
      if (next.kind !== 'dir') throw conflict(path);
      dir = next;
    }
    return { dir, name };
  }

  /** Remove the entry at `path` (if any), then prune parents that became empty. */
  private remove(path: string): void {
    const segments = segmentsOf(path);
    for (let depth = segments.length; depth > 0; depth--) {
      const parent = this.find('/' + segments.slice(0, depth - 1).join('/'));
      const name = segments[depth - 1];
      if (parent?.kind !== 'dir' || name === undefined) return;
      const node = parent.children.get(name);
      if (node === undefined) return;
      if (depth < segments.length && (node.kind !== 'dir' || node.children.size > 0)) return;
      parent.children.delete(name);
      parent.modTime = new Date();
    }
  }

  private removeFile(path: string): void {
    if (this.find(path)?.kind === 'file') this.remove(path);
  }
}

function* chunked(data: Buffer): Generator<Buffer> {
  for (let at = 0; at < data.length; at += READ_CHUNK) yield Buffer.from(data.subarray(at, at + READ_CHUNK));
}

type WriterState = 'open' | 'closed' | 'committed' | 'cancelled';

class MemoryWriter implements FileWriter {
  private state: WriterState = 'open';
  private written: number;

  constructor(
    private readonly file: MemFile,
    private readonly discard: () => void,
  ) {
    this.written = file.size;
  }

  get size(): number {
    return this.written;
  }

  async write(chunk: Buffer): Promise<void> {
    this.finish('open');
    this.file.chunks.push(Buffer.from(chunk));
    this.file.size += chunk.length;
    this.file.modTime = new Date();
    this.written += chunk.length;
  }

  async commit(): Promise<void> {
    this.finish('committed');
  }

  async close(): Promise<void> {
    this.finish('closed');
  }

  async cancel(): Promise<void> {
    if (this.state === 'committed' || this.state === 'cancelled') throw new StorageError(`writer already ${this.state}`);
    this.state = 'cancelled';
    this.discard();
  }

  /** Check the writer is open and move it to `next` ('open' only checks). */
  private finish(next: WriterState): void {
    if (this.state !== 'open') throw new StorageError(`writer already ${this.state}`);
    this.state = next;
  }
}
