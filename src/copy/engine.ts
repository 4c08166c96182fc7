/**
 * The copy engine of `berth cp`, `berth push-images` and replication: one image, or every image of
 * an index, from a source to a destination (transport.ts), as it is (every digest stays).
 *
 * Blobs go in parallel (bounded), each once however many images share it: one the destination has
 * is skipped (HEAD), one on the same registry is mounted from the source's repository, the rest are
 * sent, resuming an upload an interrupted copy left (the destination's upload session). A blob that
 * fails is tried again with backoff, going on from where the destination got to. Manifests are put
 * only after every blob they name, children before their index, the tag last: a copy cut short
 * leaves no tag pointing at an incomplete image. Destinations check digests (a registry on the
 * upload's PUT, files as written); the engine counts sizes, so a source cut short fails its blob.
 */
import { Transform, type Readable } from 'node:stream';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, INDEX_TYPES, IMAGE_MANIFEST_TYPES, isForeignLayer, OCI_INDEX, OCI_MANIFEST } from '../registry/media-types.ts';
import { Limiter } from './limiter.ts';
import { narrowIndex, type PlatformPattern } from './platforms.ts';
import type { RateLimit } from './rate.ts';
import { CopyError, type BlobRef, type ImageDestination, type ImageSource, type ManifestBytes } from './transport.ts';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** What a copy reports as it goes (progress bars, lines, a run's record). */
export interface CopyObserver {
  /** A blob starts to be sent (not for skipped or mounted ones). */
  blobStart?(ref: BlobRef): void;
  /** More of it went. */
  blobBytes?(ref: BlobRef, bytes: number): void;
  /** A blob is at the destination, and how it got there. */
  blobDone?(ref: BlobRef, how: BlobOutcome): void;
  /** A blob failed and is tried again. */
  blobRetry?(ref: BlobRef, attempt: number, err: Error): void;
  /** A manifest was put (tag: the top one's). */
  manifestDone?(manifest: ManifestBytes, tag: string | undefined): void;
}

export type BlobOutcome = 'copied' | 'skipped' | 'mounted';

export interface CopyOptions {
  /** Every image of an index; else only the one for `platform` (as `docker pull` does). */
  all?: boolean;
  /** The tag the top manifest is put under at the destination (none: by digest only). */
  tag?: string;
  /** Default: this machine's (linux and Node's architecture). */
  platform?: Platform;
  /** With `all`: an index's images of these platforms only, in an index of their own (platforms.ts). */
  platforms?: readonly PlatformPattern[];
  /** Blobs sent at once (default 4). */
  parallel?: number;
  /** Tries of one blob (default 4), with backoff from `backoffMs` (default 500) doubling. */
  attempts?: number;
  backoffMs?: number;
  observer?: CopyObserver;
  signal?: AbortSignal;
  /** A bandwidth limit for the blobs sent (shared with other copies given the same one). */
  rate?: RateLimit;
}

export interface CopyResult {
  /** The top manifest put at the destination (an index with --all, else an image manifest). */
  digest: string;
  mediaType: string;
  /** Image manifests copied. */
  images: number;
  blobs: Record<BlobOutcome, number>;
  /** Blob bytes sent (read from the source): not those skipped, mounted, or held by an upload resumed. */
  bytes: number;
}

/** This machine's platform, as images name it. */
export function hostPlatform(): Platform {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch };
}

interface ManifestJson {
  mediaType?: string;
  schemaVersion?: number;
  config?: BlobRef;
  layers?: (BlobRef & { urls?: string[] })[];
  manifests?: (BlobRef & { platform?: Platform })[];
}

function parse(m: ManifestBytes): ManifestJson {
  try {
    return JSON.parse(m.bytes.toString('utf8')) as ManifestJson;
  } catch {
    throw new CopyError('BERTH_COPY_MANIFEST_INVALID', `the manifest ${m.digest} is not JSON`);
  }
}

function kind(m: ManifestBytes): 'index' | 'image' {
  if (INDEX_TYPES.has(m.mediaType)) return 'index';
  if (IMAGE_MANIFEST_TYPES.has(m.mediaType)) return 'image';
  throw new CopyError('BERTH_COPY_UNSUPPORTED', `cannot copy a manifest of type ${m.mediaType} (${OCI_MANIFEST}, ${OCI_INDEX}, ${DOCKER_MANIFEST} and ${DOCKER_MANIFEST_LIST} are copied)`);
}

/** The child of an index for `p`: os and architecture match, and the variant when both name one. */
export function pickPlatform(index: ManifestJson, p: Platform): BlobRef | undefined {
  const candidates = (index.manifests ?? []).filter((d) => d.platform?.os === p.os && d.platform.architecture === p.architecture);
  return candidates.find((d) => p.variant === undefined || d.platform?.variant === undefined || d.platform.variant === p.variant) ?? candidates[0];
}

/** Counts what flows through and fails the stream when the blob turns out longer or shorter than it says. */
function sized(body: Readable, expected: number, ref: BlobRef, onBytes: (n: number) => void): Readable {
  let seen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > expected) {
        done(new CopyError('BERTH_COPY_SIZE_MISMATCH', `blob ${ref.digest} is longer than its ${ref.size} bytes`));
        return;
      }
      onBytes(chunk.length);
      done(null, chunk);
    },
    flush(done) {
      done(seen === expected ? null : new CopyError('BERTH_COPY_SIZE_MISMATCH', `blob ${ref.digest} ended after ${seen} of its ${ref.size} bytes`));
    },
  });
  body.on('error', (err) => counter.destroy(err));
  return body.pipe(counter);
}

/** `body` held to `rate`, when there is one. */
function throttled(body: Readable, rate: RateLimit | undefined): Readable {
  if (rate === undefined) return body;
  const t = rate.throttle();
  body.on('error', (err) => t.destroy(err));
  return body.pipe(t);
}

/** berth's errors that a second try may get past; every other `BERTH_` code is a refusal. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set(['BERTH_COPY_SOURCE', 'BERTH_COPY_UNREACHABLE', 'BERTH_COPY_RATE_LIMITED']);

/** Whether a failed blob is worth another try: a cut connection, a source that broke off, or an error of no domain. */
export function transient(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code !== 'string' || !code.startsWith('BERTH_') || TRANSIENT_CODES.has(code);
}

function abortable(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason as Error)), { once: true });
  });
}

/** One copy: its blobs shared between its images (each once), its tallies. */
class Copy {
  private readonly blobs = new Map<string, Promise<void>>();
  private readonly limiter: Limiter;
  readonly result: Omit<CopyResult, 'digest' | 'mediaType'> = { images: 0, blobs: { copied: 0, skipped: 0, mounted: 0 }, bytes: 0 };

  constructor(
    private readonly src: ImageSource,
    private readonly dst: ImageDestination,
    private readonly opts: CopyOptions,
  ) {
    this.limiter = new Limiter(Math.max(1, opts.parallel ?? 4));
  }

  /** Every blob of an image manifest at the destination, then the manifest. */
  async image(m: ManifestBytes, tag: string | undefined): Promise<void> {
    const json = parse(m);
    if (json.config === undefined) throw new CopyError('BERTH_COPY_MANIFEST_INVALID', `the image manifest ${m.digest} names no config`);
    // Foreign layers (Windows base layers) live elsewhere: a copy does not carry them, as docker push does not.
    const refs = [json.config, ...(json.layers ?? []).filter((l) => !isForeignLayer(l.mediaType ?? '') && (l.urls ?? []).length === 0)];
    await Promise.all(refs.map((ref) => this.blob(ref)));
    await this.dst.putManifest(m, tag);
    this.result.images++;
    this.opts.observer?.manifestDone?.(m, tag);
  }

  private blob(ref: BlobRef): Promise<void> {
    if (!/^sha256:[0-9a-f]{64}$|^sha512:[0-9a-f]{128}$/.test(ref.digest) || !Number.isSafeInteger(ref.size) || ref.size < 0) {
      return Promise.reject(new CopyError('BERTH_COPY_MANIFEST_INVALID', `a manifest names an invalid blob (${JSON.stringify(ref.digest).slice(0, 80)}, size ${ref.size})`));
    }
    let once = this.blobs.get(ref.digest);
    if (once === undefined) {
      once = this.limiter.run(() => this.oneBlob(ref));
      this.blobs.set(ref.digest, once);
    }
    return once;
  }

  private async oneBlob(ref: BlobRef): Promise<void> {
    const { observer, signal } = this.opts;
    signal?.throwIfAborted();
    const done = (how: BlobOutcome): void => {
      this.result.blobs[how]++;
      observer?.blobDone?.(ref, how);
    };
    if (await this.dst.hasBlob(ref)) return done('skipped');
    const from = this.src.registry;
    const to = this.dst.registry;
    if (from !== undefined && to !== undefined && from.host === to.host && this.dst.mountBlob !== undefined && (await this.dst.mountBlob(ref, from.repository))) return done('mounted');
    // Another repository of the destination's registry had it in an earlier copy: mount from there.
    for (const repository of (await this.dst.knownLocations?.(ref)) ?? []) {
      if (this.dst.mountBlob !== undefined && (await this.dst.mountBlob(ref, repository))) return done('mounted');
    }
    observer?.blobStart?.(ref);
    const attempts = Math.max(1, this.opts.attempts ?? 4);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.dst.putBlob(
          ref,
          // What is read from the source is what is sent (a resumed upload opens it at its offset);
          // `sent` also counts what the destination held already (progress).
          async (offset) => throttled(sized(await this.src.blob(ref, offset), ref.size - offset, ref, (n) => (this.result.bytes += n)), this.opts.rate),
          (n) => observer?.blobBytes?.(ref, n),
        );
        return done('copied');
      } catch (err) {
        // What mends itself is tried again (a source or a connection cut, a registry that was down);
        // a refusal (a quota, an immutable tag, a digest or size mismatch, a 4xx) is not, nor an abort.
        if (attempt >= attempts || signal?.aborted === true || !transient(err)) throw err;
        observer?.blobRetry?.(ref, attempt, err as Error);
        await abortable((this.opts.backoffMs ?? 500) * 2 ** (attempt - 1), signal);
      }
    }
  }
}

/** Copy the image (or with `all`, every image of the index) the source names to the destination. */
export async function copyImage(src: ImageSource, dst: ImageDestination, opts: CopyOptions = {}): Promise<CopyResult> {
  const copy = new Copy(src, dst, opts);
  let top = await src.manifest();
  if (kind(top) === 'index' && opts.all !== true) {
    const platform = opts.platform ?? hostPlatform();
    const child = pickPlatform(parse(top), platform);
    if (child === undefined) {
      throw new CopyError('BERTH_COPY_NO_PLATFORM', `${src.description} has no image for ${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}: copy them all with --all`);
    }
    top = await src.childManifest(child.digest);
  }
  if (kind(top) === 'index' && opts.platforms !== undefined) {
    const narrowed = narrowIndex(top, opts.platforms);
    if (narrowed === undefined) throw new CopyError('BERTH_COPY_NO_PLATFORM', `${src.description} has no image for ${opts.platforms.map((p) => [p.os, p.architecture, p.variant].filter(Boolean).join('/')).join(', ')}`);
    top = narrowed;
  }
  if (kind(top) === 'index') {
    // Every child first (each with its blobs), in parallel; the index, under its tag, last.
    const children = parse(top).manifests ?? [];
    await Promise.all(
      children.map(async (d) => {
        const child = await src.childManifest(d.digest);
        if (kind(child) === 'index') throw new CopyError('BERTH_COPY_UNSUPPORTED', `${src.description}: an index inside an index (${d.digest}) is not copied`);
        await copy.image(child, undefined);
      }),
    );
    await dst.putManifest(top, opts.tag);
    opts.observer?.manifestDone?.(top, opts.tag);
  } else {
    await copy.image(top, opts.tag);
  }
  await dst.commit();
  return { digest: top.digest, mediaType: top.mediaType, ...copy.result };
}
