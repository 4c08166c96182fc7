/**
 * Content for the content API tests, pushed over HTTP: an image with a full config (entrypoint, cmd,
 * env, labels, ports, volumes, history), a multi-platform index (linux/amd64, linux/arm64/v8 and an
 * attestation entry) whose images share a base layer, a signature referring to the image, and a
 * tiny image; tagged `1.0`, `latest` (the same image), `multi` and `tiny`, pushed in that order.
 */
import { Client, OCI_INDEX, OCI_MANIFEST, sha256, type Descriptor } from './client.ts';

export const IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';
const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const EMPTY = 'application/vnd.oci.empty.v1+json';

/** The image's config, and what the API shows of it. */
export const CONTENT = {
  config: {
    created: '2026-01-02T03:04:05Z',
    author: 'ops@example.com',
    architecture: 'amd64',
    os: 'linux',
    config: {
      Entrypoint: ['/usr/bin/app'],
      Cmd: ['--serve'],
      Env: ['PATH=/usr/bin', 'MODE=prod'],
      WorkingDir: '/srv',
      User: 'app',
      Labels: { 'org.opencontainers.image.title': 'app' },
      ExposedPorts: { '8080/tcp': {} },
      Volumes: { '/data': {} },
      StopSignal: 'SIGTERM',
    },
    rootfs: { type: 'layers', diff_ids: [] },
    history: [
      { created: '2026-01-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:base in /', comment: 'base' },
      { created: '2026-01-02T03:04:05Z', created_by: 'EXPOSE 8080/tcp', empty_layer: true },
      { created: '2026-01-02T03:04:05Z', created_by: 'COPY app /usr/bin/app', author: 'ops' },
    ],
  },
  summary: {
    created: '2026-01-02T03:04:05Z',
    author: 'ops@example.com',
    os: 'linux',
    architecture: 'amd64',
    entrypoint: ['/usr/bin/app'],
    cmd: ['--serve'],
    env: ['PATH=/usr/bin', 'MODE=prod'],
    workingDir: '/srv',
    user: 'app',
    labels: { 'org.opencontainers.image.title': 'app' },
    exposedPorts: ['8080/tcp'],
    volumes: ['/data'],
    stopSignal: 'SIGTERM',
  },
  history: [
    { created: '2026-01-01T00:00:00Z', createdBy: '/bin/sh -c #(nop) ADD file:base in /', comment: 'base', emptyLayer: false },
    { created: '2026-01-02T03:04:05Z', createdBy: 'EXPOSE 8080/tcp', emptyLayer: true },
    { created: '2026-01-02T03:04:05Z', createdBy: 'COPY app /usr/bin/app', author: 'ops', emptyLayer: false },
  ],
};

export interface Fixtures {
  image: Descriptor;
  imageBody: string;
  config: Descriptor;
  layers: Descriptor[];
  /** The image's manifest, config and layers. */
  imageSize: number;
  amd64: Descriptor;
  arm64: Descriptor;
  index: Descriptor;
  /** The index, its entries, and their blobs, each once. */
  indexSize: number;
  signature: Descriptor;
  tinySize: number;
  /** Every manifest pushed. */
  manifests: string[];
}

const pause = () => new Promise((r) => setTimeout(r, 5));

/** The bytes of distinct descriptors. */
function sizeOf(descriptors: Descriptor[]): number {
  return [...new Map(descriptors.map((d) => [d.digest, d.size])).values()].reduce((a, b) => a + b, 0);
}

async function manifest(client: Client, repo: string, reference: string | undefined, doc: Record<string, unknown>): Promise<{ descriptor: Descriptor; body: string }> {
  const mediaType = String(doc['mediaType']);
  const body = JSON.stringify(doc);
  const descriptor = { mediaType, digest: sha256(body), size: Buffer.byteLength(body) };
  const res = await client.putManifest(repo, reference ?? descriptor.digest, doc, mediaType);
  if (res.status !== 201) throw new Error(`push manifest: ${res.status} ${await res.text()}`);
  return { descriptor, body };
}

export async function pushFixtures(client: Client, repo: string): Promise<Fixtures> {
  const json = (value: unknown, mediaType: string) => client.pushBlob(repo, JSON.stringify(value), mediaType);
  const image = (reference: string | undefined, config: Descriptor, layers: Descriptor[], extra: object = {}) =>
    manifest(client, repo, reference, { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers, ...extra });

  const base = await client.pushBlob(repo, 'base layer '.repeat(100), LAYER);
  const config = await json(CONTENT.config, IMAGE_CONFIG);
  const layers = [base, await client.pushBlob(repo, 'app layer', LAYER)];
  const pushed = await image('1.0', config, layers, { annotations: { 'org.opencontainers.image.version': '1.0' } });
  await pause();
  await image('latest', config, layers, { annotations: { 'org.opencontainers.image.version': '1.0' } });
  await pause();

  const amd64Config = await json({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [] } }, IMAGE_CONFIG);
  const armConfig = await json({ os: 'linux', architecture: 'arm64', variant: 'v8', rootfs: { type: 'layers', diff_ids: [] } }, IMAGE_CONFIG);
  const amd64Layers = [base, await client.pushBlob(repo, 'amd64 layer', LAYER)];
  const armLayers = [base, await client.pushBlob(repo, 'arm64 layer', LAYER)];
  const amd64 = (await image(undefined, amd64Config, amd64Layers)).descriptor;
  const arm64 = (await image(undefined, armConfig, armLayers)).descriptor;
  const empty = await client.pushBlob(repo, '{}', EMPTY);
  const statement = await client.pushBlob(repo, '{"predicateType":"https://slsa.dev/provenance/v1"}', 'application/vnd.in-toto+json');
  const attestation = (await image(undefined, empty, [statement], { artifactType: 'application/vnd.in-toto+json' })).descriptor;
  const entries = [
    { ...amd64, platform: { os: 'linux', architecture: 'amd64' } },
    { ...arm64, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    { ...attestation, platform: { os: 'unknown', architecture: 'unknown' } },
  ];
  const index = (await manifest(client, repo, 'multi', { schemaVersion: 2, mediaType: OCI_INDEX, manifests: entries })).descriptor;
  await pause();

  const signatureBlob = await client.pushBlob(repo, 'signature bytes', 'application/vnd.example.signature.v1');
  const signature = (
    await image(undefined, empty, [signatureBlob], {
      artifactType: 'application/vnd.example.signature',
      subject: pushed.descriptor,
      annotations: { 'org.example.signer': 'ops' },
    })
  ).descriptor;

  const tinyConfig = await json({ os: 'linux', architecture: 'amd64' }, IMAGE_CONFIG);
  const tinyLayer = await client.pushBlob(repo, 't', LAYER);
  const tiny = (await image('tiny', tinyConfig, [tinyLayer])).descriptor;

  return {
    image: pushed.descriptor,
    imageBody: pushed.body,
    config,
    layers,
    imageSize: sizeOf([pushed.descriptor, config, ...layers]),
    amd64,
    arm64,
    index,
    indexSize: sizeOf([index, amd64, arm64, attestation, amd64Config, armConfig, ...amd64Layers, ...armLayers, empty, statement]),
    signature,
    tinySize: sizeOf([tiny, tinyConfig, tinyLayer]),
    manifests: [pushed.descriptor, amd64, arm64, attestation, index, signature, tiny].map((d) => d.digest),
  };
}
