/**
 * `docker-archive:FILE[:NAME:TAG]`: `docker save`'s tar, in both of its formats.
 *
 *  - legacy (Docker before 25, and the 20.10 daemon of Debian bookworm): `manifest.json`
 *    ([{Config: "<hex>.json", RepoTags, Layers: ["<id>/layer.tar", ...]}]), configs, uncompressed
 *    layer tars (skopeo writes them as `<diffid>.tar` with `<id>/layer.tar` symlinks), `repositories`.
 *    There is no registry manifest: one is synthesized as skopeo does (see `synthesizeManifest`).
 *  - Docker 25+: an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/...`) with
 *    `manifest.json` beside it, its paths into `blobs/`. The image manifest in the layout is used
 *    as it is, so its digest is kept.
 *
 * NAME:TAG picks the manifest.json entry whose RepoTags has it (`docker.io/` and `library/` are
 * ignored in the comparison); without it the archive must hold one image.
 *
 * As a destination the Docker 25+ format is written (an OCI layout plus manifest.json, which
 * `docker load` of every version reads), the image's blobs and manifest as they come, so the
 * digests stay; layers stay compressed (`docker load` decompresses them). It holds one image
 * manifest: an index is refused (the engine picks a platform first).
 */
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { diffIds, manifestHasConfig, parseDockerManifest, pickDockerEntry, synthesizeManifest } from './docker-format.ts';
import { DockerSaveStream } from './docker-save-stream.ts';
import { ArchiveDestination, tarFiles } from './oci-archive.ts';
import {
  MANIFEST_LIMIT,
  MEDIA,
  REF_NAME,
  blobPath,
  digestOf,
  manifestMediaType,
  parseJson,
  writeFileAtomic,
  type Descriptor,
  type IndexJson,
  type LayoutDestination,
  type LayoutFiles,
} from './oci-layout.ts';
import { TarIndex } from './tar-index.ts';
import { CopyError, type BlobRef, type ImageDestination, type ImageSource, type ManifestBytes, type SequentialSource } from './transport.ts';

/** A docker-archive file's image. */
class DockerArchiveSource implements ImageSource {
  /** Where each blob is in the archive, by digest. */
  private readonly paths = new Map<string, string>();
  private top: ManifestBytes | undefined;

  constructor(
    readonly description: string,
    private readonly index: TarIndex,
    private readonly files: LayoutFiles,
    private readonly nameTag: string | undefined,
  ) {}

  private async read(path: string): Promise<Buffer> {
    const bytes = await this.files.read(path, MANIFEST_LIMIT);
    if (bytes === undefined) throw new CopyError('BERTH_COPY_ARCHIVE_INVALID', `${this.description}: ${path} is missing from the archive`);
    return bytes;
  }

  async manifest(): Promise<ManifestBytes> {
    if (this.top !== undefined) return this.top;
    const entry = pickDockerEntry(parseDockerManifest(await this.read('manifest.json'), this.description), this.nameTag, this.description);
    const config = await this.read(entry.Config);
    const configDigest = digestOf(config);
    this.paths.set(configDigest, entry.Config);
    const inLayout = await this.layoutManifest(configDigest);
    if (inLayout !== undefined) return (this.top = inLayout);
    const ids = diffIds(config, this.description);
    if (ids.length !== entry.Layers.length) throw new CopyError('BERTH_COPY_ARCHIVE_INVALID', `${this.description}: ${entry.Layers.length} layers but ${ids.length} diff_ids in the config`);
    const layers = entry.Layers.map((path, i): BlobRef => {
      const file = this.index.find(path);
      if (file === undefined) throw new CopyError('BERTH_COPY_ARCHIVE_INVALID', `${this.description}: layer ${path} is missing from the archive`);
      const digest = ids[i] ?? '';
      this.paths.set(digest, path);
      return { digest, size: file.size };
    });
    return (this.top = synthesizeManifest(config, layers));
  }

  /** Docker 25+: the image manifest in index.json (or a child of an index there) whose config is `configDigest`. */
  private async layoutManifest(configDigest: string): Promise<ManifestBytes | undefined> {
    const indexBytes = await this.files.read('index.json', MANIFEST_LIMIT);
    if (indexBytes === undefined) return undefined;
    const index = parseJson<IndexJson>(indexBytes, `${this.description}: index.json`);
    const seen = new Set<string>();
    const visit = async (descriptors: Descriptor[]): Promise<ManifestBytes | undefined> => {
      for (const d of descriptors) {
        if (seen.has(d.digest)) continue;
        seen.add(d.digest);
        const bytes = await this.files.read(blobPath(d.digest), MANIFEST_LIMIT);
        if (bytes === undefined || digestOf(bytes, d.digest.split(':')[0]) !== d.digest) continue;
        if (manifestHasConfig(bytes, configDigest)) return { bytes, digest: d.digest, mediaType: manifestMediaType(bytes, d.mediaType, this.description) };
        const children = parseJson<{ manifests?: Descriptor[] }>(bytes, this.description).manifests;
        const found = children === undefined ? undefined : await visit(children);
        if (found !== undefined) return found;
      }
      return undefined;
    };
    return visit(index.manifests ?? []);
  }

  async childManifest(digest: string): Promise<ManifestBytes> {
    throw new CopyError('BERTH_COPY_MANIFEST_UNKNOWN', `${this.description}: holds single images; no manifest ${digest} in it`);
  }

  async blob(ref: BlobRef, offset = 0): Promise<Readable> {
    if (this.top === undefined) await this.manifest();
    const path = this.paths.get(ref.digest) ?? blobPath(ref.digest);
    const stream = await this.files.open(path, offset);
    if (stream === undefined) throw new CopyError('BERTH_COPY_BLOB_UNKNOWN', `${this.description}: blob ${ref.digest} is not in the archive`);
    return stream;
  }

  async close(): Promise<void> {}
}

function describe(file: string, nameTag: string | undefined): string {
  return `docker-archive:${file}${nameTag === undefined ? '' : `:${nameTag}`}`;
}

export async function dockerArchiveSource(file: string, nameTag?: string): Promise<ImageSource> {
  const description = describe(file, nameTag);
  const index = await TarIndex.open(file, description);
  return new DockerArchiveSource(description, index, tarFiles(index, description), nameTag);
}

/** manifest.json, index.json and repositories for the image `layout` holds, named `nameTag`. */
async function writeDockerFiles(layout: LayoutDestination, nameTag: string | undefined, description: string): Promise<void> {
  const top = layout.top;
  if (top === undefined) throw new CopyError('BERTH_COPY_NOT_FOUND', `${description}: no image was copied`);
  const parsed = parseJson<{ config?: Descriptor; layers?: Descriptor[]; manifests?: unknown }>(top.manifest.bytes, description);
  if (parsed.config === undefined || !Array.isArray(parsed.layers)) {
    throw new CopyError('BERTH_COPY_UNSUPPORTED', `${description}: a docker archive holds single-platform images, not an index (${top.manifest.mediaType}); choose a platform`);
  }
  const repoTags = nameTag === undefined ? [] : [nameTag];
  const entry = { Config: blobPath(parsed.config.digest), RepoTags: repoTags, Layers: parsed.layers.map((l) => blobPath(l.digest)) };
  await writeFileAtomic(join(layout.dir, 'manifest.json'), JSON.stringify([entry]));
  const annotations: Record<string, string> = {};
  if (nameTag !== undefined) {
    annotations['io.containerd.image.name'] = nameTag;
    annotations[REF_NAME] = nameTag.slice(nameTag.lastIndexOf(':') + 1);
  }
  const descriptor: Descriptor = { mediaType: top.manifest.mediaType, digest: top.manifest.digest, size: top.manifest.bytes.length };
  if (nameTag !== undefined) descriptor.annotations = annotations;
  const index: IndexJson = { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [descriptor] };
  await writeFileAtomic(join(layout.dir, 'index.json'), JSON.stringify(index));
}

export function dockerArchiveDestination(file: string, nameTag?: string): ImageDestination {
  if (nameTag !== undefined && !/^[^:]+(:\d+)?[^:]*:[\w][\w.-]{0,127}$/.test(nameTag)) {
    throw new CopyError('BERTH_COPY_REFERENCE_INVALID', `docker-archive:${file}: ${JSON.stringify(nameTag)} is not NAME:TAG`);
  }
  const description = describe(file, nameTag);
  return new ArchiveDestination(file, description, undefined, (layout) => writeDockerFiles(layout, nameTag, description));
}

/** `docker save`'s output read once as it comes (`GET /images/get`): see docker-save-stream.ts. */
export function readDockerSave(input: Readable, description?: string): SequentialSource {
  return new DockerSaveStream(input, description);
}
