/** A small registry API client for tests: push blobs and manifests, build image manifests. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  platform?: { os: string; architecture: string };
  annotations?: Record<string, string>;
}

export class Client {
  constructor(readonly base: string) {}

  fetch(path: string, init?: RequestInit): Promise<Response> {
    return fetch(path.startsWith('http') ? path : this.base + path, init);
  }

  /** Monolithic push in one POST ?digest= request. */
  async pushBlob(repo: string, data: Buffer | string, mediaType = 'application/octet-stream'): Promise<Descriptor> {
    const body = Buffer.from(data);
    const digest = sha256(body);
    const res = await this.fetch(`/v2/${repo}/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    if (res.status !== 201) throw new Error(`push blob: ${res.status} ${await res.text()}`);
    return { mediaType, digest, size: body.length };
  }

  async putManifest(repo: string, reference: string, manifest: object, mediaType: string): Promise<Response> {
    return this.fetch(`/v2/${repo}/manifests/${reference}`, {
      method: 'PUT',
      body: JSON.stringify(manifest),
      headers: { 'Content-Type': mediaType },
    });
  }

  /** Push config + one layer and an image manifest; returns the manifest's descriptor and bytes. */
  async pushImage(
    repo: string,
    tag: string,
    opts: { layer?: string; mediaType?: string; subject?: Descriptor; artifactType?: string; annotations?: Record<string, string> } = {},
  ): Promise<{ descriptor: Descriptor; body: string; layer: Descriptor; config: Descriptor }> {
    const mediaType = opts.mediaType ?? OCI_MANIFEST;
    const docker = mediaType === DOCKER_MANIFEST;
    const config = await this.pushBlob(
      repo,
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, tag }),
      docker ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json',
    );
    const layer = await this.pushBlob(
      repo,
      opts.layer ?? `layer of ${repo}:${tag}`,
      docker ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : 'application/vnd.oci.image.layer.v1.tar+gzip',
    );
    const manifest: Record<string, unknown> = { schemaVersion: 2, mediaType, config, layers: [layer] };
    if (opts.subject) manifest['subject'] = opts.subject;
    if (opts.artifactType) manifest['artifactType'] = opts.artifactType;
    if (opts.annotations) manifest['annotations'] = opts.annotations;
    const body = JSON.stringify(manifest);
    const res = await this.fetch(`/v2/${repo}/manifests/${tag}`, { method: 'PUT', body, headers: { 'Content-Type': mediaType } });
    if (res.status !== 201) throw new Error(`push manifest: ${res.status} ${await res.text()}`);
    return { descriptor: { mediaType, digest: sha256(body), size: Buffer.byteLength(body) }, body, layer, config };
  }
}

/** The first error code of an OCI error envelope. */
export async function errorCode(res: Response): Promise<string | undefined> {
  const body = (await res.json()) as { errors?: { code: string }[] };
  return body.errors?.[0]?.code;
}

export interface OciError {
  code: string;
  message: string;
  detail?: Record<string, unknown>;
}

/** Asserts a 403 DENIED whose first error's message matches; returns that error. */
export async function expectDenied(res: Response, message: RegExp): Promise<OciError> {
  assert.equal(res.status, 403);
  const error = ((await res.json()) as { errors: OciError[] }).errors[0];
  assert.equal(error?.code, 'DENIED');
  assert.match(error.message, message);
  return error;
}
