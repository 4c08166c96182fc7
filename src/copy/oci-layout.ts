/**
 * `oci:DIR[:REF]`: an OCI image layout directory (image-spec image-layout.md): `oci-layout`,
 * `index.json` and `blobs/<alg>/<hex>`.
 *
 * As a source, REF names the index.json entry whose `org.opencontainers.image.ref.name`
 * annotation is REF; without REF the layout must hold one entry. `LayoutSource` reads any
 * `LayoutFiles`, so oci-archive (a tar of a layout) shares it.
 *
 * As a destination, the layout is created when absent and added to when present. Blobs and
 * manifests are written atomically (a temporary file in the same directory, its digest and size
 * checked as written, fsynced, renamed into place), so an interrupted copy leaves complete blobs
 * only, which `hasBlob` then skips. index.json is rewritten (atomically too) at commit() only:
 * the top manifest gets an entry named by the destination's REF, or else by the tag the engine
 * gave putManifest; an entry of the same name is replaced (as skopeo does). The top manifest is
 * the one put with a tag, or else the last one put (the engine puts an index's children first).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { CopyError, type BlobRef, type ImageDestination, type ImageSource, type ManifestBytes } from './transport.ts';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

export const REF_NAME = 'org.opencontainers.image.ref.name';
/** Largest manifest or index.json read into memory (registries refuse manifests past 4 MiB). */
export const MANIFEST_LIMIT = 4 * 1024 * 1024;
const LAYOUT_FILE = JSON.stringify({ imageLayoutVersion: '1.0.0' });

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Record<string, unknown>;
}

export interface IndexJson {
  schemaVersion?: number;
  mediaType?: string;
  manifests?: Descriptor[];
  [key: string]: unknown;
}

const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** `blobs/<alg>/<hex>` of a digest; a digest of another shape (a path in disguise) is refused. */
export function blobPath(digest: string): string {
  if (!DIGEST.test(digest)) throw new CopyError('BERTH_COPY_DIGEST_INVALID', `not a sha256 or sha512 digest: ${JSON.stringify(digest)}`);
  const [alg, hex] = digest.split(':') as [string, string];
  return `blobs/${alg}/${hex}`;
}

export function digestOf(bytes: Buffer, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

export function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (err) {
    throw new CopyError('BERTH_COPY_INVALID_JSON', `${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/** A manifest's media type: its descriptor's, else its own `mediaType` field, else guessed from its shape. */
export function manifestMediaType(bytes: Buffer, fromDescriptor: string | undefined, what: string): string {
  if (fromDescriptor !== undefined && fromDescriptor !== '') return fromDescriptor;
  const parsed = parseJson<{ mediaType?: unknown; manifests?: unknown }>(bytes, what);
  if (typeof parsed.mediaType === 'string') return parsed.mediaType;
  return Array.isArray(parsed.manifests) ? MEDIA.ociIndex : MEDIA.ociManifest;
}

/** The files of a layout, wherever it is (a directory, a tar). */
export interface LayoutFiles {
  readonly description: string;
  /** A whole file of at most `limit` bytes; undefined when absent. */
  read(path: string, limit: number): Promise<Buffer | undefined>;
  /** A file's bytes from `offset`; undefined when absent. */
  open(path: string, offset: number): Promise<Readable | undefined>;
}

function missing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

export function dirFiles(dir: string, description: string): LayoutFiles {
  return {
    description,
    async read(path, limit) {
      const full = join(dir, path);
      try {
        const { size } = await stat(full);
        if (size > limit) throw new CopyError('BERTH_COPY_TOO_LARGE', `${description}: ${path} is ${size} bytes, more than ${limit}`);
        return await readFile(full);
      } catch (err) {
        if (missing(err)) return undefined;
        throw err;
      }
    },
    async open(path, offset) {
      try {
        const handle = await open(join(dir, path), 'r');
        return handle.createReadStream({ start: offset });
      } catch (err) {
        if (missing(err)) return undefined;
        throw err;
      }
    },
  };
}

/** Reads `digest` from a layout and checks that its bytes are it. */
async function readManifestBlob(files: LayoutFiles, digest: string, mediaType: string | undefined): Promise<ManifestBytes> {
  const bytes = await files.read(blobPath(digest), MANIFEST_LIMIT);
  if (bytes === undefined) throw new CopyError('BERTH_COPY_MANIFEST_UNKNOWN', `${files.description}: manifest ${digest} is not in the layout`);
  const algorithm = digest.slice(0, digest.indexOf(':'));
  if (digestOf(bytes, algorithm) !== digest) throw new CopyError('BERTH_COPY_DIGEST_MISMATCH', `${files.description}: blob ${digest} does not match its digest`);
  return { bytes, mediaType: manifestMediaType(bytes, mediaType, `${files.description}: manifest ${digest}`), digest };
}

/** The index.json entry REF names (or the only one). */
export function pickEntry(index: IndexJson, ref: string | undefined, description: string): Descriptor {
  const entries = index.manifests ?? [];
  const names = entries.map((d) => d.annotations?.[REF_NAME]).filter((n): n is string => n !== undefined);
  const known = names.length > 0 ? ` (it has: ${names.join(', ')})` : '';
  if (ref === undefined) {
    const [only, ...more] = entries;
    if (only === undefined) throw new CopyError('BERTH_COPY_NOT_FOUND', `${description}: index.json names no image`);
    if (more.length > 0) throw new CopyError('BERTH_COPY_AMBIGUOUS', `${description}: index.json names ${entries.length} images; say which with :REF${known}`);
    return only;
  }
  const matches = entries.filter((d) => d.annotations?.[REF_NAME] === ref);
  const [first, ...rest] = matches;
  if (first === undefined) throw new CopyError('BERTH_COPY_NOT_FOUND', `${description}: no image named ${JSON.stringify(ref)}${known}`);
  if (rest.some((d) => d.digest !== first.digest)) throw new CopyError('BERTH_COPY_AMBIGUOUS', `${description}: index.json names ${matches.length} different images ${JSON.stringify(ref)}`);
  return first;
}

export async function readIndexJson(files: LayoutFiles): Promise<IndexJson> {
  const layout = await files.read('oci-layout', 4096);
  if (layout === undefined) throw new CopyError('BERTH_COPY_NOT_FOUND', `${files.description}: not an OCI image layout (no oci-layout file)`);
  const version = parseJson<{ imageLayoutVersion?: unknown }>(layout, `${files.description}: oci-layout`).imageLayoutVersion;
  if (typeof version !== 'string' || !version.startsWith('1.')) {
    throw new CopyError('BERTH_COPY_UNSUPPORTED', `${files.description}: image layout version ${JSON.stringify(version)} is not 1.x`);
  }
  const bytes = await files.read('index.json', MANIFEST_LIMIT);
  if (bytes === undefined) throw new CopyError('BERTH_COPY_NOT_FOUND', `${files.description}: no index.json`);
  return parseJson<IndexJson>(bytes, `${files.description}: index.json`);
}

/** An image in a layout (a directory or a tar of one). */
export class LayoutSource implements ImageSource {
  private top: Descriptor | undefined;
  private readonly childTypes = new Map<string, string>();

  constructor(
    readonly files: LayoutFiles,
    private readonly ref: string | undefined,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {}

  get description(): string {
    return this.files.description;
  }

  async manifest(): Promise<ManifestBytes> {
    this.top ??= pickEntry(await readIndexJson(this.files), this.ref, this.description);
    return this.remember(await readManifestBlob(this.files, this.top.digest, this.top.mediaType));
  }

  async childManifest(digest: string): Promise<ManifestBytes> {
    return this.remember(await readManifestBlob(this.files, digest, this.childTypes.get(digest)));
  }

  /** An index's children's media types, from its descriptors (a child need not say its own). */
  private remember(manifest: ManifestBytes): ManifestBytes {
    const parsed = parseJson<{ manifests?: Descriptor[] }>(manifest.bytes, `${this.description}: ${manifest.digest}`);
    for (const child of parsed.manifests ?? []) if (child.mediaType !== undefined) this.childTypes.set(child.digest, child.mediaType);
    return manifest;
  }

  async blob(ref: BlobRef, offset = 0): Promise<Readable> {
    const stream = await this.files.open(blobPath(ref.digest), offset);
    if (stream === undefined) throw new CopyError('BERTH_COPY_BLOB_UNKNOWN', `${this.description}: blob ${ref.digest} is not in the layout`);
    return stream;
  }

  close(): Promise<void> {
    return this.onClose();
  }
}

export function ociLayoutSource(dir: string, ref?: string): ImageSource {
  return new LayoutSource(dirFiles(dir, `oci:${dir}${ref === undefined ? '' : `:${ref}`}`), ref);
}

/** Writes `bytes` to `path` through a temporary file beside it and a rename. */
export async function writeFileAtomic(path: string, bytes: Buffer | string): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, bytes, { flag: 'wx' });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/**
 * Stores `body` as the blob `ref` under `dir`: a temporary file in the blob's directory, hashed
 * and counted as written, fsynced and renamed into place only when digest and size match; on a
 * mismatch or any error nothing is left.
 */
export async function writeBlobVerified(dir: string, ref: BlobRef, body: AsyncIterable<Buffer> | Iterable<Buffer>, sent: (bytes: number) => void, description: string): Promise<void> {
  const path = join(dir, blobPath(ref.digest));
  const algorithm = ref.digest.slice(0, ref.digest.indexOf(':'));
  await mkdir(join(path, '..'), { recursive: true });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx');
  let closed = false;
  try {
    const hash = createHash(algorithm);
    let size = 0;
    for await (const chunk of body) {
      size += chunk.length;
      if (ref.size >= 0 && size > ref.size) throw new CopyError('BERTH_COPY_SIZE_MISMATCH', `${description}: blob ${ref.digest} is longer than its ${ref.size} bytes`);
      hash.update(chunk);
      await handle.write(chunk);
      sent(chunk.length);
    }
    if (ref.size >= 0 && size !== ref.size) throw new CopyError('BERTH_COPY_SIZE_MISMATCH', `${description}: blob ${ref.digest} is ${size} bytes, not ${ref.size}`);
    const actual = `${algorithm}:${hash.digest('hex')}`;
    if (actual !== ref.digest) throw new CopyError('BERTH_COPY_DIGEST_MISMATCH', `${description}: blob ${ref.digest} arrived as ${actual}`);
    await handle.sync();
    await handle.close();
    closed = true;
    await rename(temp, path);
  } catch (err) {
    if (!closed) await handle.close().catch(() => {});
    await rm(temp, { force: true });
    throw err;
  }
}

export interface PutManifest {
  manifest: ManifestBytes;
  tag: string | undefined;
}

/** Writes an image into a layout directory; index.json changes at commit() only. */
export class LayoutDestination implements ImageDestination {
  private ready: Promise<void> | undefined;
  /** The manifest put with a tag, else the last one put. */
  top: PutManifest | undefined;
  private tagged = false;

  constructor(
    readonly dir: string,
    readonly description: string,
    private readonly ref: string | undefined,
  ) {}

  private ensureLayout(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
      const layout = await readFile(join(this.dir, 'oci-layout')).catch((err: unknown) => {
        if (missing(err)) return undefined;
        throw err;
      });
      if (layout === undefined) await writeFileAtomic(join(this.dir, 'oci-layout'), LAYOUT_FILE);
      else await readIndexJson(dirFiles(this.dir, this.description)).catch((err: unknown) => {
        if (err instanceof CopyError && err.code === 'BERTH_COPY_NOT_FOUND') return; // a layout without index.json yet
        throw err;
      });
    })();
    return this.ready;
  }

  async hasBlob(ref: BlobRef): Promise<boolean> {
    try {
      const { size } = await stat(join(this.dir, blobPath(ref.digest)));
      return ref.size < 0 || size === ref.size;
    } catch (err) {
      if (missing(err)) return false;
      throw err;
    }
  }

  async putBlob(ref: BlobRef, openBody: (offset: number) => Promise<Readable>, sent: (bytes: number) => void): Promise<void> {
    await this.ensureLayout();
    const body = await openBody(0);
    try {
      await writeBlobVerified(this.dir, ref, body, sent, this.description);
    } finally {
      body.destroy();
    }
  }

  async putManifest(manifest: ManifestBytes, tag: string | undefined): Promise<void> {
    await this.ensureLayout();
    const ref = { digest: manifest.digest, size: manifest.bytes.length };
    if (!(await this.hasBlob(ref))) await writeBlobVerified(this.dir, ref, [manifest.bytes], () => {}, this.description);
    if (tag !== undefined) {
      this.top = { manifest, tag };
      this.tagged = true;
    } else if (!this.tagged) {
      this.top = { manifest, tag };
    }
  }

  /** The name the top manifest's index.json entry gets: the destination's REF, else the engine's tag. */
  get refName(): string | undefined {
    return this.ref ?? (this.top?.tag === '' ? undefined : this.top?.tag);
  }

  async commit(): Promise<void> {
    if (this.top === undefined) return;
    await this.ensureLayout();
    const files = dirFiles(this.dir, this.description);
    const existing = await files.read('index.json', MANIFEST_LIMIT);
    const index: IndexJson = existing === undefined ? { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] } : parseJson<IndexJson>(existing, `${this.description}: index.json`);
    const { manifest } = this.top;
    const name = this.refName;
    const entry: Descriptor = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length };
    if (name !== undefined) entry.annotations = { [REF_NAME]: name };
    const kept = (index.manifests ?? []).filter((d) => {
      const other = d.annotations?.[REF_NAME];
      return name === undefined ? other !== undefined || d.digest !== manifest.digest : other !== name;
    });
    index.manifests = [...kept, entry];
    await writeFileAtomic(join(this.dir, 'index.json'), JSON.stringify(index));
  }

  async close(): Promise<void> {}
}

export function ociLayoutDestination(dir: string, ref?: string): LayoutDestination {
  return new LayoutDestination(dir, `oci:${dir}${ref === undefined ? '' : `:${ref}`}`, ref);
}
