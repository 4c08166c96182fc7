/**
 * `docker://HOST/REPO[:TAG|@DIGEST]` (issue 17): a registry as an image source and destination, on
 * the client of registry-client.ts. Names follow docker's rules: a first component with a `.` or a
 * `:`, or `localhost`, is a host, else the host is Docker Hub; `docker.io` means
 * `registry-1.docker.io`, and a Hub name of one component is under `library/`. No tag and no
 * digest means `latest`.
 */
import { BlobLocations } from './blob-locations.ts';
import type { Readable } from 'node:stream';
import { credentialsFor, type CredentialOptions } from './credentials.ts';
import { RegistryClient, type RegistryClientOptions } from './registry-client.ts';
import { uploadBlob, uploadUnnamedBlob, type UploadOptions } from './registry-upload.ts';
import { UploadStateDir } from './upload-state.ts';
import { CopyError, type BlobRef, type ImageDestination, type ImageSource, type ManifestBytes, type RegistryLocation } from './transport.ts';

export interface DockerReference {
  /** host[:port] to connect to (Docker Hub: registry-1.docker.io). */
  host: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const DOCKER_HUB = 'registry-1.docker.io';
const NAME_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** Parses `docker://…` (or what follows `docker://`). */
export function parseDockerReference(input: string): DockerReference {
  const text = input.replace(/^docker:/, '').replace(/^\/\//, '');
  const bad = (why: string) => new CopyError('BERTH_COPY_REFERENCE_INVALID', `docker://${text}: ${why}`);
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad('the digest is not valid');
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad('the tag is not valid');
  }
  const parts = rest.split('/');
  let host = DOCKER_HUB;
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))) {
    host = first;
    parts.shift();
  }
  if (host === 'docker.io' || host === 'index.docker.io') host = DOCKER_HUB;
  if (host === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  if (parts.length === 0 || !parts.every((p) => NAME_COMPONENT.test(p))) throw bad('the repository name is not valid');
  return { host, repository: parts.join('/'), ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}), ...(tag === undefined && digest === undefined ? { tag: 'latest' } : {}) };
}

export function formatDockerReference(ref: DockerReference): string {
  return `docker://${ref.host}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

export interface RegistryTransportOptions extends CredentialOptions, UploadOptions {
  /** Plain HTTP to a host that is not loopback. */
  insecure?: boolean;
  /** The directory of upload sessions (default ~/.cache/berth/uploads); `false`: keep none. */
  uploadStateDir?: string | false;
  /** Where blobs were seen in each registry, to mount from (berth cp: ~/.cache/berth/blob-locations, blob-locations.ts); default none. */
  blobLocationsDir?: string | false;
  client?: Omit<RegistryClientOptions, 'host' | 'credential' | 'insecure'>;
}

async function clientFor(ref: DockerReference, opts: RegistryTransportOptions): Promise<RegistryClient> {
  const credential = await credentialsFor(ref.host, opts);
  return new RegistryClient({ ...opts.client, host: ref.host, ...(credential !== undefined ? { credential } : {}), ...(opts.insecure !== undefined ? { insecure: opts.insecure } : {}) });
}

export class RegistrySource implements ImageSource {
  readonly description: string;
  readonly registry: RegistryLocation;

  constructor(
    private readonly client: RegistryClient,
    readonly ref: DockerReference,
  ) {
    this.description = formatDockerReference(ref);
    this.registry = { host: ref.host, repository: ref.repository };
  }

  manifest(): Promise<ManifestBytes> {
    return this.client.getManifest(this.ref.repository, this.ref.digest ?? this.ref.tag ?? 'latest');
  }

  childManifest(digest: string): Promise<ManifestBytes> {
    return this.client.getManifest(this.ref.repository, digest);
  }

  blob(ref: BlobRef, offset = 0): Promise<Readable> {
    return this.client.getBlob(this.ref.repository, ref.digest, offset);
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

export class RegistryDestination implements ImageDestination {
  readonly description: string;
  readonly registry: RegistryLocation;

  constructor(
    private readonly client: RegistryClient,
    readonly ref: DockerReference,
    private readonly upload: UploadOptions,
    /** Where this registry holds blobs, from earlier copies (blob-locations.ts); none: no memory. */
    private readonly locations?: BlobLocations,
  ) {
    this.description = formatDockerReference(ref);
    this.registry = { host: ref.host, repository: ref.repository };
  }

  private async noted<T>(result: T, ref: BlobRef, holds: boolean): Promise<T> {
    if (holds) await this.locations?.note(this.ref.host, ref.digest, this.ref.repository);
    return result;
  }

  async hasBlob(ref: BlobRef): Promise<boolean> {
    const has = await this.client.hasBlob(this.ref.repository, ref.digest);
    return this.noted(has, ref, has);
  }

  async mountBlob(ref: BlobRef, from: string): Promise<boolean> {
    const mounted = await this.client.mountBlob(this.ref.repository, ref.digest, from);
    return this.noted(mounted, ref, mounted);
  }

  async knownLocations(ref: BlobRef): Promise<string[]> {
    return (await this.locations?.where(this.ref.host, ref.digest, this.ref.repository)) ?? [];
  }

  /** Resumable: a session an interrupted copy left is continued (see registry-upload.ts). `sent` counts the bytes the registry already held at once. */
  async putBlob(ref: BlobRef, open: (offset: number) => Promise<Readable>, sent: (bytes: number) => void): Promise<void> {
    await uploadBlob(this.client, this.ref.repository, ref, open, sent, this.upload);
    await this.noted(undefined, ref, true);
  }

  /** A blob named only once its bytes went by (a legacy `docker save` layer): one PATCH, then the PUT with the digest. */
  putUnnamedBlob(size: number, body: Readable, digest: Promise<string>, sent: (bytes: number) => void): Promise<BlobRef> {
    return uploadUnnamedBlob(this.client, this.ref.repository, size, body, digest, sent);
  }

  /** By digest (an index's child, or a top manifest without a tag), or under `tag`. */
  async putManifest(manifest: ManifestBytes, tag: string | undefined): Promise<void> {
    await this.client.putManifest(this.ref.repository, tag ?? manifest.digest, manifest);
  }

  async commit(): Promise<void> {
    await this.locations?.save().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

export async function openRegistrySource(reference: string | DockerReference, opts: RegistryTransportOptions = {}): Promise<RegistrySource> {
  const ref = typeof reference === 'string' ? parseDockerReference(reference) : reference;
  return new RegistrySource(await clientFor(ref, opts), ref);
}

export async function openRegistryDestination(reference: string | DockerReference, opts: RegistryTransportOptions = {}): Promise<RegistryDestination> {
  const ref = typeof reference === 'string' ? parseDockerReference(reference) : reference;
  const state = opts.uploadStateDir === false ? undefined : new UploadStateDir(opts.uploadStateDir);
  const locations = opts.blobLocationsDir === undefined || opts.blobLocationsDir === false ? undefined : new BlobLocations(opts.blobLocationsDir);
  return new RegistryDestination(await clientFor(ref, opts), ref, { ...(opts.chunkSize !== undefined ? { chunkSize: opts.chunkSize } : {}), ...(state !== undefined ? { state } : {}) }, locations);
}
