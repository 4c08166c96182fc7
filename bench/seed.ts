// Setup for the HTTP load rows: an OCI image (config + layer + manifest) in bench/app with
// many tags, and many small repositories so that tags/list and _catalog are non-trivial.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expectStatus, location, request } from './client.ts';
import { sha256, smallBlob } from './payload.ts';
import type { Server } from './servers.ts';

export const APP_REPO = 'bench/app';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MANIFEST_ACCEPT = [
  OCI_MANIFEST,
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export interface Blob {
  data: Buffer;
  digest: string;
}

export interface Seed {
  config: Blob;
  layer: Blob;
  manifest: Blob;
  tags: string[];
  repos: string[];
}

export function makeSeed(tagCount: number, repoCount: number): Seed {
  const configJson = JSON.stringify({
    created: '2024-01-01T00:00:00Z',
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/usr/local/bin:/usr/bin:/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [`sha256:${'0'.repeat(64)}`] },
    history: [{ created: '2024-01-01T00:00:00Z', created_by: 'berth bench' }],
  });
  const config = { data: Buffer.from(configJson), digest: sha256(configJson) };
  const layer = smallBlob(64 * 1024);
  const manifestJson = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.data.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.data.length }],
  });
  const manifest = { data: Buffer.from(manifestJson), digest: sha256(manifestJson) };
  const tags = ['latest', ...Array.from({ length: tagCount - 1 }, (_, i) => `v1.${String(i).padStart(3, '0')}`)];
  const repos = Array.from({ length: repoCount }, (_, i) => `bench/r${String(i).padStart(3, '0')}`);
  return { config, layer, manifest, tags, repos };
}

async function putBlob(srv: Server, repo: string, blob: Blob, from?: string): Promise<void> {
  const what = `${srv.name}: push blob to ${repo}`;
  const q = from ? `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from)}` : '';
  const post = await request('POST', new URL(`/v2/${repo}/blobs/uploads/${q}`, srv.base));
  if (from && post.status === 201) return; // mounted
  expectStatus(post, [202], what);
  const put = location(post, srv.base, what);
  put.searchParams.set('digest', blob.digest);
  const res = await request('PUT', put, {
    headers: { 'content-type': 'application/octet-stream', 'content-length': blob.data.length },
    body: blob.data,
  });
  expectStatus(res, [201], what);
}

async function putManifest(srv: Server, repo: string, ref: string, manifest: Blob): Promise<void> {
  const res = await request('PUT', new URL(`/v2/${repo}/manifests/${ref}`, srv.base), {
    headers: { 'content-type': OCI_MANIFEST, 'content-length': manifest.data.length },
    body: manifest.data,
  });
  expectStatus(res, [201], `${srv.name}: PUT manifest ${repo}:${ref}`);
}

/** Push everything; returns the number of HTTP requests made. */
export async function seedRegistry(srv: Server, seed: Seed): Promise<number> {
  let requests = 0;
  await putBlob(srv, APP_REPO, seed.config);
  await putBlob(srv, APP_REPO, seed.layer);
  requests += 4;
  for (const tag of seed.tags) {
    await putManifest(srv, APP_REPO, tag, seed.manifest);
    requests += 1;
  }
  for (const repo of seed.repos) {
    await putBlob(srv, repo, seed.config, APP_REPO);
    await putBlob(srv, repo, seed.layer, APP_REPO);
    await putManifest(srv, repo, 'latest', seed.manifest);
    requests += 3;
  }
  return requests;
}

export interface LoadPaths {
  manifest: string;
  tags: string;
  catalog: string;
  blobHead: string;
}

export function loadPaths(seed: Seed): LoadPaths {
  return {
    manifest: `/v2/${APP_REPO}/manifests/latest`,
    tags: `/v2/${APP_REPO}/tags/list`,
    catalog: '/v2/_catalog?n=100',
    blobHead: `/v2/${APP_REPO}/blobs/${seed.layer.digest}`,
  };
}

/**
 * Static copies for nginx: the manifest, the layer, and the tags/list and _catalog bodies
 * as a reference registry returned them (nginx ignores the query string).
 */
export async function writeNginxMirror(root: string, seed: Seed, reference: Server): Promise<void> {
  const paths = loadPaths(seed);
  const write = (urlPath: string, data: Buffer): void => {
    const file = join(root, urlPath.split('?')[0] ?? urlPath);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, data);
  };
  write(paths.manifest, seed.manifest.data);
  write(paths.blobHead, seed.layer.data);
  for (const p of [paths.tags, paths.catalog]) {
    const res = expectStatus(await request('GET', new URL(p, reference.base)), [200], `${reference.name}: GET ${p}`);
    write(p, res.body);
  }
}
