/**
 * What both readers of `docker save`'s tar share (docker-archive.ts for a file, docker-save-stream.ts
 * for a stream): manifest.json, picking an image by NAME:TAG, and the manifest skopeo synthesizes
 * for a legacy archive.
 */
import { MEDIA, digestOf, parseJson } from './oci-layout.ts';
import { CopyError, type BlobRef, type ManifestBytes } from './transport.ts';

export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
/**
 * The layer media type of a synthesized manifest. The layers are uncompressed tars, but skopeo
 * (containers/image) names them `.tar.gzip` in the manifest it synthesizes, and clients detect the
 * compression from the bytes; the same bytes as skopeo's give the same manifest digest.
 */
export const SYNTHESIZED_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

export interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

export function parseDockerManifest(bytes: Buffer, description: string): DockerManifestEntry[] {
  const parsed = parseJson<unknown>(bytes, `${description}: manifest.json`);
  const valid =
    Array.isArray(parsed) &&
    parsed.every((e: Partial<DockerManifestEntry>) => typeof e?.Config === 'string' && Array.isArray(e.Layers) && e.Layers.every((l) => typeof l === 'string'));
  if (!valid) throw new CopyError('BERTH_COPY_ARCHIVE_INVALID', `${description}: manifest.json is not a list of {Config, RepoTags, Layers}`);
  return parsed as DockerManifestEntry[];
}

/** `docker.io/library/busybox:1` and `busybox:1` are the same name. */
export function familiarName(name: string): string {
  return name.replace(/^(docker\.io|index\.docker\.io)\//, '').replace(/^library\//, '');
}

export function pickDockerEntry(entries: DockerManifestEntry[], nameTag: string | undefined, description: string): DockerManifestEntry {
  const all = entries.flatMap((e) => e.RepoTags ?? []);
  const known = all.length > 0 ? ` (it has: ${all.join(', ')})` : '';
  if (nameTag === undefined) {
    const [only, ...more] = entries;
    if (only === undefined) throw new CopyError('BERTH_COPY_NOT_FOUND', `${description}: manifest.json names no image`);
    if (more.length > 0) throw new CopyError('BERTH_COPY_AMBIGUOUS', `${description}: the archive holds ${entries.length} images; say which with :NAME:TAG${known}`);
    return only;
  }
  const wanted = familiarName(nameTag);
  const found = entries.find((e) => (e.RepoTags ?? []).some((t) => familiarName(t) === wanted));
  if (found === undefined) throw new CopyError('BERTH_COPY_NOT_FOUND', `${description}: no image ${nameTag}${known}`);
  return found;
}

/** The digest a Docker 25+ path names (`blobs/sha256/<hex>`), else undefined. */
export function digestFromPath(path: string): string | undefined {
  const match = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/.exec(path);
  return match === null ? undefined : `${match[1]}:${match[2]}`;
}

/** The config's rootfs.diff_ids, which are the legacy layer tars' digests, in order. */
export function diffIds(config: Buffer, description: string): string[] {
  const ids = parseJson<{ rootfs?: { diff_ids?: unknown } }>(config, `${description}: image config`).rootfs?.diff_ids;
  if (!Array.isArray(ids) || !ids.every((d) => typeof d === 'string')) throw new CopyError('BERTH_COPY_ARCHIVE_INVALID', `${description}: the image config has no rootfs.diff_ids`);
  return ids as string[];
}

/**
 * The Docker schema 2 manifest skopeo synthesizes for a legacy archive, byte for byte (Go's
 * json.Marshal of its structs: this key order, no spaces): the config, and each layer tar by its
 * uncompressed digest and size.
 */
export function synthesizeManifest(config: Buffer, layers: BlobRef[]): ManifestBytes {
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.dockerManifest,
    config: { mediaType: DOCKER_CONFIG, size: config.length, digest: digestOf(config) },
    layers: layers.map((l) => ({ mediaType: SYNTHESIZED_LAYER, size: l.size, digest: l.digest })),
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  return { bytes, mediaType: MEDIA.dockerManifest, digest: digestOf(bytes) };
}

/** Is this an image manifest (not an index) whose config is `configDigest`? */
export function manifestHasConfig(bytes: Buffer, configDigest: string): boolean {
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as { config?: { digest?: unknown } };
    return parsed.config?.digest === configDigest;
  } catch {
    return false;
  }
}
