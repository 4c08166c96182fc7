/**
 * The storage driver interface: a small, path-based byte store (after distribution's
 * StorageDriver). It knows nothing of blobs, manifests or repositories; the layout of
 * paths lives in paths.ts and everything registry-shaped lives above it in src/registry.
 *
 * Paths are absolute, slash-separated, of the form /a/b/c: lowercase letters, digits,
 * `.`, `_`, `-` and `/`; no `..` segment, no empty segment, no trailing slash.
 */
import type { Readable } from 'node:stream';

export interface FileInfo {
  path: string;
  size: number;
  modTime: Date;
  isDir: boolean;
}

/** A resumable, append-only writer. Nothing written is visible under `path` as durable until commit(). */
export interface FileWriter {
  /** Bytes in the file so far, including what existed before an append-open. */
  readonly size: number;
  /** Append bytes. Resolves once the bytes are handed to the backend (not necessarily durable). */
  write(chunk: Buffer): Promise<void>;
  /** Make every written byte durable (fsync / complete multipart). The writer is unusable afterwards. */
  commit(): Promise<void>;
  /** Release resources without making anything durable; what was written may be kept for a later append-open. */
  close(): Promise<void>;
  /** Abandon the file: remove what was written. */
  cancel(): Promise<void>;
}

export interface ReadOptions {
  /** First byte to read (default 0). Past the end of the file: InvalidOffsetError. */
  offset?: number;
  /** Last byte to read, inclusive (default: end of file). */
  end?: number;
}

export interface WriterOptions {
  /**
   * Make nothing durable before commit() (no periodic flushes while writing): writes run at the
   * speed of the page cache and commit() takes longer. For writers whose commit is off a
   * client's critical path (a mirror caching a blob it already streams to its clients).
   */
  deferSync?: boolean;
}

export interface PutOptions {
  /**
   * false: atomic but not yet durable; a later flush() makes it so. For callers that keep their
   * own durable copy meanwhile (the meta store's blob journal). Default true.
   */
  durable?: boolean;
}

/** An open local file, for the kernel to send from (sendfile). The holder must close it. */
export interface OpenFile {
  fd: number;
  size: number;
  close(): Promise<void>;
}

export interface StorageDriver {
  readonly name: string;
  /** Whole content of a small file. PathNotFoundError if absent. */
  getContent(path: string): Promise<Buffer>;
  /** Atomically and durably replace a small file (readers see the old or the new content, never a mix). */
  putContent(path: string, content: Buffer, opts?: PutOptions): Promise<void>;
  /** Make files written with durable: false durable, with their directory entries. Returns the paths that were missing. */
  flush(paths: string[]): Promise<string[]>;
  /** A stream of the file's bytes from offset to end. PathNotFoundError / InvalidOffsetError. */
  reader(path: string, opts?: ReadOptions): Promise<Readable>;
  /** Open a writer; append=true continues an existing file (PathNotFoundError if absent). */
  writer(path: string, append: boolean, opts?: WriterOptions): Promise<FileWriter>;
  /** Size, modification time, file or directory. PathNotFoundError if absent. */
  stat(path: string): Promise<FileInfo>;
  /** Direct children of a directory as full paths, sorted. PathNotFoundError if absent. */
  list(path: string): Promise<string[]>;
  /**
   * Atomically and durably move a file, replacing the destination. PathNotFoundError if src is
   * absent. The source's directory may be left behind empty (delete prunes, move need not).
   */
  move(src: string, dst: string): Promise<void>;
  /** Remove a file or a whole directory tree. PathNotFoundError if absent. */
  delete(path: string): Promise<void>;
  /**
   * The file opened for zero-copy sending, or undefined when the backend keeps no local files
   * (memory, object storage): readers use reader() then. PathNotFoundError if absent.
   */
  openFile(path: string): Promise<OpenFile | undefined>;
  /** A URL the client may fetch the content from directly, or undefined when the driver has none. */
  redirectURL(path: string, method: 'GET' | 'HEAD'): Promise<string | undefined>;
  /** Visit every file (not directory) below path, depth first, in sorted order. */
  walk(path: string, visit: (info: FileInfo) => Promise<void> | void): Promise<void>;
  /**
   * Optional, for backends where an interrupted write leaves something that list() and walk() do
   * not show (an object store's incomplete multipart uploads, which cost money): remove what was
   * started before `olderThan` (nothing when `dryRun`) and return how many there were.
   */
  purgeIncomplete?(olderThan: Date, opts?: { dryRun?: boolean }): Promise<number>;
}

export class StorageError extends Error {
  readonly code: string = 'BERTH_STORAGE';
}

export class PathNotFoundError extends StorageError {
  override readonly code = 'BERTH_PATH_NOT_FOUND';
  constructor(readonly path: string) {
    super(`path not found: ${path}`);
  }
}

export class InvalidOffsetError extends StorageError {
  override readonly code = 'BERTH_INVALID_OFFSET';
  constructor(
    readonly path: string,
    readonly offset: number,
  ) {
    super(`invalid offset ${offset} for ${path}`);
  }
}

export class InvalidPathError extends StorageError {
  override readonly code = 'BERTH_INVALID_PATH';
  constructor(readonly path: string) {
    super(`invalid storage path: ${JSON.stringify(path)}`);
  }
}

/** Whether a path exists (any other storage error propagates). */
export async function pathExists(driver: StorageDriver, path: string): Promise<boolean> {
  try {
    await driver.stat(path);
    return true;
  } catch (e) {
    if (e instanceof PathNotFoundError) return false;
    throw e;
  }
}
