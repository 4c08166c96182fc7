/**
 * A `docker save` tar read once, front to back (`berth push-images` reads `GET /images/get` from
 * the Docker Engine's socket), as a SequentialSource: nothing of it is written to disk.
 *
 * Entries come in tar order:
 *  - `blobs/<alg>/<hex>` (Docker 25+): a `blob` whose digest its path names. One of at most 4 MiB
 *    is read whole first: if it is an image manifest or index it is kept for the `images` entry
 *    and not emitted (it is no blob to store); else it is emitted from memory.
 *  - a top-level `<hex>.json` (legacy config): read whole (configs are small), emitted as a `blob`
 *    by the digest of its bytes, and kept to synthesize the manifest.
 *  - a top-level `<hex>.tar` (podman's export, skopeo's docker-archive: containers/image names a
 *    layer by its uncompressed digest, and writes it before the config): a `blob` by the digest its
 *    name gives, so it can be skipped or mounted like a Docker 25+ one; its bytes are hashed as they
 *    are read and must be that digest (a mismatch fails the body at its end).
 *  - any other regular file but the metadata (`manifest.json`, `index.json`, `oci-layout`,
 *    `repositories`, legacy `<id>/json` and `<id>/VERSION`): a legacy layer tar, whose name is
 *    not its digest: an `unnamed-blob`, hashed as it is read, its digest known at its end.
 *    Symbolic and hard links (skopeo's `<id>/layer.tar`) are followed at the end.
 * and at the end of the stream one `images` entry: Docker 25+ archives give index.json's
 * manifests as they are, legacy ones the manifest skopeo would synthesize (docker-archive.ts),
 * after checking that every layer's digest is its config's diff_id.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { extract } from 'tar-stream';
import { diffIds, digestFromPath, manifestHasConfig, parseDockerManifest, synthesizeManifest, type DockerManifestEntry } from './docker-format.ts';
import { MANIFEST_LIMIT, MEDIA, digestOf, manifestMediaType, parseJson, type Descriptor, type IndexJson } from './oci-layout.ts';
import { normalizeTarPath, refuseCompressed } from './tar-index.ts';
import { CopyError, type ManifestBytes, type SequentialEntry, type SequentialSource } from './transport.ts';

type Image = { manifest: ManifestBytes; children: ManifestBytes[]; names: string[] };

const METADATA = new Set(['manifest.json', 'index.json', 'oci-layout', 'repositories']);
const MANIFEST_TYPES = new Set<string>([MEDIA.ociIndex, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.dockerManifest]);

/** Does this blob look like an image manifest or index (rather than a config or a small layer)? */
function isManifest(bytes: Buffer): boolean {
  if (bytes[0] !== 0x7b) return false; // '{'
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown; schemaVersion?: unknown; manifests?: unknown; layers?: unknown };
    if (typeof parsed.mediaType === 'string') return MANIFEST_TYPES.has(parsed.mediaType);
    return parsed.schemaVersion === 2 && (Array.isArray(parsed.manifests) || Array.isArray(parsed.layers));
  } catch {
    return false;
  }
}

async function readWhole(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** `docker save`'s output as a stream. */
export class DockerSaveStream implements SequentialSource {
  private started = false;

  constructor(
    private readonly input: Readable,
    readonly description = 'docker save stream',
  ) {}

  async *entries(): AsyncGenerator<SequentialEntry> {
    if (this.started) throw new CopyError('BERTH_COPY_STREAM_USED', `${this.description}: a stream can be read once`);
    this.started = true;
    const manifests = new Map<string, Buffer>(); // Docker 25+ manifests by digest
    const configs = new Map<string, Buffer>(); // legacy configs by path
    const layers = new Map<string, { size: number; digest: Promise<string> }>(); // legacy layers by path
    const links = new Map<string, string>(); // path -> the path it links to
    const meta = new Map<string, Buffer>();

    const parser = extract();
    this.input.once('data', (chunk: Buffer) => {
      try {
        refuseCompressed(chunk, this.description);
      } catch (err) {
        parser.destroy(err as Error);
      }
    });
    this.input.on('error', (err) => parser.destroy(err));
    this.input.pipe(parser as unknown as NodeJS.WritableStream);

    try {
      for await (const raw of parser) {
        const name = normalizeTarPath(raw.header.name);
        const { type, size } = raw.header;
        const entry = raw as unknown as AsyncIterable<Buffer>;
        if (type === 'symlink' || type === 'link') {
          links.set(name, type === 'symlink' ? normalizeTarPath(posix.join(posix.dirname(name), raw.header.linkname)) : normalizeTarPath(raw.header.linkname));
          raw.resume();
          continue;
        }
        if (type !== 'file' && type !== 'contiguous-file') {
          raw.resume();
          continue;
        }
        const named = digestFromPath(name);
        if (named !== undefined) {
          if (size <= MANIFEST_LIMIT) {
            const bytes = await readWhole(entry);
            if (isManifest(bytes)) {
              if (digestOf(bytes, named.split(':')[0]) !== named) throw new CopyError('BERTH_COPY_DIGEST_MISMATCH', `${this.description}: ${name} does not match its digest`);
              manifests.set(named, bytes);
            } else {
              yield { kind: 'blob', ref: { digest: named, size }, body: Readable.from([bytes], { objectMode: false }) };
            }
          } else {
            const body = Readable.from(entry, { objectMode: false });
            yield { kind: 'blob', ref: { digest: named, size }, body };
            if (!body.readableEnded) await finished(body.resume());
          }
        } else if (METADATA.has(name) || /^[^/]+\/(json|VERSION)$/.test(name)) {
          if (size > MANIFEST_LIMIT) throw new CopyError('BERTH_COPY_TOO_LARGE', `${this.description}: ${name} is ${size} bytes`);
          meta.set(name, await readWhole(entry));
        } else if (/^[^/]+\.json$/.test(name) && size <= MANIFEST_LIMIT) {
          const bytes = await readWhole(entry);
          configs.set(name, bytes);
          yield { kind: 'blob', ref: { digest: digestOf(bytes), size }, body: Readable.from([bytes], { objectMode: false }) };
        } else {
          const expected = digestFromLayerName(name);
          const { body, digest } = hashing(entry, size, `${this.description}: ${name}`, expected);
          layers.set(name, { size, digest });
          if (expected !== undefined) yield { kind: 'blob', ref: { digest: expected, size }, body };
          else yield { kind: 'unnamed-blob', size, body, digest };
          if (!body.readableEnded) await finished(body.resume());
        }
      }
    } finally {
      this.input.destroy();
    }
    const manifestJson = meta.get('manifest.json');
    const entries = manifestJson === undefined ? [] : parseDockerManifest(manifestJson, this.description);
    const indexJson = meta.get('index.json');
    const images = indexJson !== undefined
      ? layoutImages(parseJson<IndexJson>(indexJson, `${this.description}: index.json`), manifests, entries, this.description)
      : await legacyImages(entries, configs, layers, links, this.description);
    if (images.length === 0) throw new CopyError('BERTH_COPY_NOT_FOUND', `${this.description}: the stream held no image (no manifest.json)`);
    yield { kind: 'images', images };
  }

  async close(): Promise<void> {
    this.input.destroy();
  }
}

/** The digest a top-level `<hex>.tar` names (containers/image's docker-archive layer), else undefined. */
function digestFromLayerName(name: string): string | undefined {
  const match = /^([a-f0-9]{64})\.tar$/.exec(name);
  return match?.[1] === undefined ? undefined : `sha256:${match[1]}`;
}

/**
 * A body that hashes its bytes as they are read; `digest` resolves at its end. With `expected`,
 * the body fails at its end unless that is their digest.
 */
function hashing(entry: AsyncIterable<Buffer>, size: number, what: string, expected?: string): { body: Readable; digest: Promise<string> } {
  let settle!: { resolve: (d: string) => void; reject: (e: Error) => void };
  const digest = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  digest.catch(() => {}); // a consumer that never asks is not an unhandled rejection
  async function* hashed(): AsyncGenerator<Buffer> {
    const hash = createHash('sha256');
    let got: string | undefined;
    let seen = 0;
    try {
      for await (const chunk of entry) {
        hash.update(chunk);
        seen += chunk.length;
        yield chunk;
      }
      if (seen === size) got = `sha256:${hash.digest('hex')}`;
      if (got !== undefined && expected !== undefined && got !== expected) throw new CopyError('BERTH_COPY_DIGEST_MISMATCH', `${what}: its bytes are ${got}, not the digest its name says`);
    } finally {
      if (got !== undefined) settle.resolve(got);
      else settle.reject(new CopyError('BERTH_COPY_STREAM_INCOMPLETE', `${what}: read ${seen} of ${size} bytes`));
    }
  }
  return { body: Readable.from(hashed(), { objectMode: false }), digest };
}

/** Follows links from `path` to a path that is not one. */
function resolveLink(path: string, links: Map<string, string>): string {
  let current = path;
  for (let hops = 0; hops < 16 && links.has(current); hops++) current = links.get(current) ?? current;
  return current;
}

async function legacyImages(
  entries: DockerManifestEntry[],
  configs: Map<string, Buffer>,
  layers: Map<string, { size: number; digest: Promise<string> }>,
  links: Map<string, string>,
  description: string,
): Promise<Image[]> {
  const images: Image[] = [];
  for (const entry of entries) {
    const config = configs.get(resolveLink(normalizeTarPath(entry.Config), links));
    if (config === undefined) throw new CopyError('BERTH_COPY_ARCHIVE_INVALID', `${description}: config ${entry.Config} was not in the stream`);
    const ids = diffIds(config, description);
    if (ids.length !== entry.Layers.length) throw new CopyError('BERTH_COPY_ARCHIVE_INVALID', `${description}: ${entry.Layers.length} layers but ${ids.length} diff_ids in ${entry.Config}`);
    const refs = [];
    for (const [i, path] of entry.Layers.entries()) {
      const layer = layers.get(resolveLink(normalizeTarPath(path), links));
      if (layer === undefined) throw new CopyError('BERTH_COPY_ARCHIVE_INVALID', `${description}: layer ${path} was not in the stream`);
      const digest = await layer.digest;
      if (digest !== ids[i]) throw new CopyError('BERTH_COPY_DIGEST_MISMATCH', `${description}: layer ${path} is ${digest}, but the config says ${ids[i]}`);
      refs.push({ digest, size: layer.size });
    }
    images.push({ manifest: synthesizeManifest(config, refs), children: [], names: entry.RepoTags ?? [] });
  }
  return images;
}

function layoutImages(index: IndexJson, manifests: Map<string, Buffer>, entries: DockerManifestEntry[], description: string): Image[] {
  const byDigest = new Map<string, Image>();
  const found = (digest: string, mediaType: string | undefined): ManifestBytes => {
    const bytes = manifests.get(digest);
    if (bytes === undefined) throw new CopyError('BERTH_COPY_ARCHIVE_INVALID', `${description}: manifest ${digest} named by index.json was not in the stream`);
    return { bytes, digest, mediaType: manifestMediaType(bytes, mediaType, `${description}: ${digest}`) };
  };
  for (const d of index.manifests ?? []) {
    let manifest = found(d.digest, d.mediaType);
    let children: ManifestBytes[] = [];
    const listed = parseJson<{ manifests?: Descriptor[] }>(manifest.bytes, description).manifests;
    if (listed !== undefined) {
      const present = listed.filter((c) => manifests.has(c.digest));
      if (present.length === listed.length) children = present.map((c) => found(c.digest, c.mediaType));
      else {
        // an index saved for one platform: its other children are not in the stream; keep the one that is
        const configs = entries.map((e) => digestFromPath(normalizeTarPath(e.Config)));
        const own = present.find((c) => configs.some((cfg) => cfg !== undefined && manifestHasConfig(manifests.get(c.digest) ?? Buffer.alloc(0), cfg)));
        if (own === undefined) throw new CopyError('BERTH_COPY_ARCHIVE_INVALID', `${description}: index ${d.digest} names manifests the stream does not hold`);
        manifest = found(own.digest, own.mediaType);
      }
    }
    const names = namesFor(manifest, children, entries, d);
    const image = byDigest.get(manifest.digest);
    if (image === undefined) byDigest.set(manifest.digest, { manifest, children, names });
    else for (const n of names) if (!image.names.includes(n)) image.names.push(n);
  }
  return [...byDigest.values()];
}

/** manifest.json's RepoTags for the image whose config the manifest (or a child) names; else containerd's annotation. */
function namesFor(manifest: ManifestBytes, children: ManifestBytes[], entries: DockerManifestEntry[], d: Descriptor): string[] {
  const names = entries
    .filter((e) => {
      const config = digestFromPath(normalizeTarPath(e.Config));
      return config !== undefined && [manifest, ...children].some((m) => manifestHasConfig(m.bytes, config));
    })
    .flatMap((e) => e.RepoTags ?? []);
  const annotated = d.annotations?.['io.containerd.image.name'];
  if (names.length === 0 && annotated !== undefined) names.push(annotated);
  return [...new Set(names)];
}
