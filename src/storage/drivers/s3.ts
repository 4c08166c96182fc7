/**
 * S3Driver: the StorageDriver on an S3 bucket (AWS or compatible: Ceph RGW, MinIO), through the
 * AWS SDK. Path /a/b is the object "<rootdirectory>/a/b"; directories are key prefixes, so they
 * exist exactly while a file lies below them (nothing to prune).
 *
 * Where the interface assumes a local disk:
 *  - openFile: no local file to sendfile from; it checks the path and returns undefined, so
 *    callers stream through reader() (ranged GETs).
 *  - putContent with durable: false: an acknowledged PUT is already durable, so it is the same
 *    as durable: true, and flush() only reports the paths that are missing.
 *  - move is CopyObject (part by part for large objects) then DeleteObject: server-side, but not
 *    atomic; a crash between the two leaves the source too, which the upload purger removes.
 *  - redirectURL presigns a GET or HEAD of the object, so clients fetch blobs from S3 directly
 *    (unless storage.redirect.disable).
 *  - "in the way" checks (a file where a directory is expected or the reverse) cost a listing and
 *    a HEAD per parent directory before each creation, run in parallel.
 *
 * purgeIncomplete aborts the multipart uploads under the root directory that were started before
 * a date (a node killed mid-PATCH leaves its upload incomplete, billed until aborted); the upload
 * purger calls it. With no root directory that is every one in the bucket.
 *
 * Requests are retried with backoff by the SDK's standard retry strategy (s3-client.ts).
 */
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { FileInfo, FileWriter, OpenFile, PutOptions, ReadOptions, StorageDriver } from '../driver.ts';
import { InvalidOffsetError, PathNotFoundError, StorageError } from '../driver.ts';
import { KeySpace, conflict, createClient, isInvalidRange, isNotFound, writeParams, type S3Settings, type WriteParams } from './s3-client.ts';
import { copyObject } from './s3-copy.ts';
import { S3Writer } from './s3-writer.ts';

/** Lifetime of a redirect URL. */
const REDIRECT_SECONDS = 20 * 60;

interface ObjectInfo {
  size: number;
  modTime: Date;
}

/** One directory level: its files and subdirectories by name. */
interface Listing {
  files: Map<string, ObjectInfo>;
  dirs: Set<string>;
}

export class S3Driver implements StorageDriver {
  readonly name = 's3';
  private readonly keys: KeySpace;
  private readonly params: WriteParams;
  private readonly bucket: string;

  constructor(
    private readonly s3: S3Client,
    private readonly settings: S3Settings,
    /** Entries per ListMultipartUploads page (S3's default and most: 1000); smaller in tests of paging. */
    private readonly uploadsPageSize = 1000,
  ) {
    this.keys = new KeySpace(settings.rootdirectory);
    this.params = writeParams(settings);
    this.bucket = settings.bucket;
  }

  async getContent(path: string): Promise<Buffer> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keys.key(path) }));
      return Buffer.from((await out.Body?.transformToByteArray()) ?? []);
    } catch (err) {
      throw isNotFound(err) ? new PathNotFoundError(path) : err;
    }
  }

  /** One PUT: atomic, and durable once acknowledged whatever `durable` says. */
  async putContent(path: string, content: Buffer, _opts?: PutOptions): Promise<void> {
    await this.checkWritable(path);
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: this.keys.key(path), Body: content, ContentLength: content.length, ...this.params }),
    );
  }

  async flush(paths: string[]): Promise<string[]> {
    const found = await Promise.all(paths.map((p) => this.head(p)));
    return paths.filter((_, i) => found[i] === undefined);
  }

  async openFile(path: string): Promise<OpenFile | undefined> {
    if ((await this.head(path)) === undefined) throw new PathNotFoundError(path);
    return undefined;
  }

  async reader(path: string, opts: ReadOptions = {}): Promise<Readable> {
    const offset = opts.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidOffsetError(path, offset);
    if (opts.end !== undefined && !Number.isSafeInteger(opts.end)) throw new InvalidOffsetError(path, opts.end);
    if (opts.end !== undefined && opts.end < offset) return this.emptyAt(path, offset);
    const range = offset === 0 && opts.end === undefined ? undefined : `bytes=${offset}-${opts.end ?? ''}`;
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keys.key(path), Range: range }));
      if (!(out.Body instanceof Readable)) throw new StorageError(`S3 GetObject of ${path} returned no stream`);
      return out.Body;
    } catch (err) {
      if (isNotFound(err)) throw new PathNotFoundError(path);
      if (isInvalidRange(err)) return this.emptyAt(path, offset); // offset at or past the end
      throw err;
    }
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    let existing: number | undefined;
    if (append) {
      const info = await this.head(path);
      if (info === undefined) throw new PathNotFoundError(path);
      existing = info.size;
    } else {
      await this.checkWritable(path);
    }
    const key = this.keys.key(path);
    return new S3Writer(
      {
        s3: this.s3,
        bucket: this.bucket,
        key,
        params: this.params,
        partSize: this.settings.chunksize,
        copyPartSize: this.settings.multipartcopychunksize,
        remove: async () => {
          await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
        },
      },
      existing,
    );
  }

  async stat(path: string): Promise<FileInfo> {
    const file = await this.head(path);
    if (file !== undefined) return { path, ...file, isDir: false };
    const first = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.keys.under(path), MaxKeys: 1 }));
    const below = first.Contents?.[0];
    if (below === undefined) throw new PathNotFoundError(path);
    return { path, size: 0, modTime: below.LastModified ?? new Date(), isDir: true };
  }

  async list(path: string): Promise<string[]> {
    const level = await this.listLevel(path);
    const names = [...level.dirs, ...level.files.keys()];
    if (names.length === 0 && path !== '/') throw new PathNotFoundError(path);
    return names.sort().map((name) => (path === '/' ? `/${name}` : `${path}/${name}`));
  }

  async move(src: string, dst: string): Promise<void> {
    const info = await this.head(src);
    if (info === undefined) throw (await this.isDirectory(src)) ? conflict(src) : new PathNotFoundError(src);
    if (src === dst) return;
    await this.checkWritable(dst);
    const copy = {
      s3: this.s3,
      bucket: this.bucket,
      params: this.params,
      partSize: this.settings.multipartcopychunksize,
      threshold: this.settings.multipartcopythresholdsize,
    };
    await copyObject(copy, this.keys.key(src), this.keys.key(dst), info.size);
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keys.key(src) }));
  }

  /** A file: DeleteObject. A directory: every key below it, listed by pages, 1000 per DeleteObjects. */
  async delete(path: string): Promise<void> {
    if ((await this.head(path)) !== undefined) {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keys.key(path) }));
      return;
    }
    let deleted = 0;
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.keys.under(path), ContinuationToken: token }));
      const objects = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
      if (objects.length > 0) {
        const out = await this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: objects, Quiet: true } }));
        const failed = out.Errors?.[0];
        if (failed !== undefined) throw new StorageError(`S3 DeleteObjects failed for ${failed.Key ?? '?'}: ${failed.Code ?? ''} ${failed.Message ?? ''}`);
        deleted += objects.length;
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    if (deleted === 0) throw new PathNotFoundError(path);
  }

  /** A presigned GET or HEAD of the object, valid for 20 minutes (distribution's S3 driver does the same). */
  async redirectURL(path: string, method: 'GET' | 'HEAD'): Promise<string | undefined> {
    const input = { Bucket: this.bucket, Key: this.keys.key(path) };
    const command = method === 'GET' ? new GetObjectCommand(input) : new HeadObjectCommand(input);
    return getSignedUrl(this.s3, command, { expiresIn: REDIRECT_SECONDS });
  }

  /** Aborts the multipart uploads under the root started before `olderThan`, listed by pages. */
  async purgeIncomplete(olderThan: Date, opts: { dryRun?: boolean } = {}): Promise<number> {
    let count = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.s3.send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          Prefix: this.keys.prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
          MaxUploads: this.uploadsPageSize,
        }),
      );
      for (const upload of page.Uploads ?? []) {
        const { Key, UploadId, Initiated } = upload;
        if (Key === undefined || UploadId === undefined || Initiated === undefined || Initiated >= olderThan) continue;
        count++;
        if (opts.dryRun === true) continue;
        try {
          await this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId }));
        } catch (err) {
          if (!(err instanceof S3ServiceException && err.name === 'NoSuchUpload')) throw err; // completed or aborted meanwhile
          count--;
        }
      }
      if (page.IsTruncated !== true || page.NextKeyMarker === undefined) return count;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  /** One listing per directory (delimiter '/'), each level sorted by name: depth first in path order. */
  async walk(path: string, visit: (info: FileInfo) => Promise<void> | void): Promise<void> {
    const level = await this.listLevel(path);
    if (path !== '/' && level.files.size === 0 && level.dirs.size === 0) throw new PathNotFoundError(path);
    await this.walkLevel(path, level, visit);
  }

  private async walkLevel(path: string, level: Listing, visit: (info: FileInfo) => Promise<void> | void): Promise<void> {
    const names = [...new Set([...level.dirs, ...level.files.keys()])].sort();
    for (const name of names) {
      const at = path === '/' ? `/${name}` : `${path}/${name}`;
      const file = level.files.get(name);
      if (file !== undefined) await visit({ path: at, ...file, isDir: false });
      else await this.walkLevel(at, await this.listLevel(at), visit);
    }
  }

  private async listLevel(path: string): Promise<Listing> {
    const prefix = this.keys.under(path);
    const level: Listing = { files: new Map(), dirs: new Set() };
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix !== undefined) level.dirs.add(p.Prefix.slice(prefix.length, -1));
      for (const o of page.Contents ?? []) {
        if (o.Key !== undefined) level.files.set(o.Key.slice(prefix.length), { size: o.Size ?? 0, modTime: o.LastModified ?? new Date() });
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return level;
  }

  private async head(path: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keys.key(path) }));
      return { size: out.ContentLength ?? 0, modTime: out.LastModified ?? new Date() };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async isDirectory(path: string): Promise<boolean> {
    const out = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.keys.under(path), MaxKeys: 1 }));
    return (out.KeyCount ?? out.Contents?.length ?? 0) > 0;
  }

  /** StorageError when a directory is at `path` or a file at one of its parents. */
  private async checkWritable(path: string): Promise<void> {
    const segments = path.slice(1).split('/');
    const parents = segments.slice(0, -1).map((_, i) => `/${segments.slice(0, i + 1).join('/')}`);
    const [dir, ...files] = await Promise.all([this.isDirectory(path), ...parents.map((p) => this.head(p))]);
    if (dir === true || files.some((f) => f !== undefined)) throw conflict(path);
  }

  /** The empty stream of a read at `offset` when the offset is at the end, else InvalidOffsetError. */
  private async emptyAt(path: string, offset: number): Promise<Readable> {
    const info = await this.head(path);
    if (info === undefined) throw new PathNotFoundError(path);
    if (offset > info.size) throw new InvalidOffsetError(path, offset);
    return Readable.from([]);
  }
}

/** The S3 driver for `storage.s3` (main.ts wraps it in withPathValidation, as every driver). */
export function createS3Driver(settings: S3Settings, client: S3Client = createClient(settings)): S3Driver {
  return new S3Driver(client, settings);
}
