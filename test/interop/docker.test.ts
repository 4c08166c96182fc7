/**
 * Interop with the Docker engine: a private dockerd (vfs, no iptables, no bridge, its own
 * data-root, exec-root and socket) loads a fixture archive, pushes it to the registry,
 * removes it, pulls it back (by tag, with no tag, by digest) and pulls one platform of a
 * multi-arch OCI index. The RepoDigests docker records must match Docker-Content-Digest.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MT, buildImage, writeDockerArchive, type BuiltImage } from '../fixtures/oci.ts';
import { dockerdWarnings, startDockerd, stopDockerd, type Daemon } from '../helpers/dockerd.ts';
import { headManifest, requireTools, run, runOk, startBerth, tempDir, type BerthProcess, type RunResult } from '../helpers/process.ts';

const tools = requireTools('dockerd', 'docker');

interface DockerImage {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Architecture: string;
}

describe('docker interop', () => {
  let server: BerthProcess;
  let work: string;
  let daemon: Daemon | undefined;
  let image: BuiltImage;

  const logs = (): string =>
    `--- registry logs (${server.url}) ---\n${server.logs().slice(-8000)}\n--- dockerd warnings ---\n${dockerdWarnings(work)}`;
  const docker = (...args: string[]): Promise<RunResult> => {
    if (daemon === undefined) throw new Error('dockerd is not running');
    return runOk('docker', args, { env: daemon.env, context: logs, timeout: 180_000 });
  };
  const inspect = async (ref: string): Promise<DockerImage> => {
    const list = JSON.parse((await docker('image', 'inspect', ref)).stdout) as DockerImage[];
    assert.ok(list[0] !== undefined, `docker image inspect ${ref} returned nothing`);
    return list[0];
  };
  const removeAll = async (): Promise<void> => {
    const ids = (await docker('image', 'ls', '--quiet', '--no-trunc')).stdout.split('\n').filter((l) => l !== '');
    if (ids.length > 0) await docker('image', 'rm', '--force', ...new Set(ids));
  };
  const pushedDigest = (result: RunResult): string => {
    const match = /digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(result.stdout);
    assert.ok(match?.[1] !== undefined, `no digest in docker push output:\n${result.stdout}`);
    return match[1];
  };

  before(async () => {
    if (tools.skip !== false) return;
    tools.check();
    server = await startBerth();
    work = await tempDir('docker');
    daemon = await startDockerd(work, server.host);
  });

  after(async () => {
    if (daemon !== undefined) await stopDockerd(daemon, work);
    await server?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('loads, pushes, removes and pulls back; RepoDigests match the registry', { skip: tools.skip }, async () => {
    const archive = join(work, 'web.tar');
    image = await writeDockerArchive(archive, { repoTag: 'berth-fixture/web:1.0', label: 'docker' });
    await docker('load', '--input', archive);
    assert.equal((await inspect('berth-fixture/web:1.0')).Id, image.configDigest);

    const ref = `${server.host}/carol/web:1.0`;
    await docker('tag', 'berth-fixture/web:1.0', ref);
    const digest = pushedDigest(await docker('push', ref));
    const head = await headManifest(server, 'carol/web', '1.0');
    assert.equal(head.status, 200);
    assert.equal(head.digest, digest);
    assert.equal(head.mediaType, MT.dockerManifest);

    await removeAll();
    assert.equal((await run('docker', ['image', 'inspect', ref], { env: daemon?.env ?? {} })).code, 1);

    await docker('pull', ref);
    const pulled = await inspect(ref);
    assert.equal(pulled.Id, image.configDigest);
    assert.deepEqual(pulled.RepoDigests, [`${server.host}/carol/web@${head.digest}`]);

    await removeAll();
    await docker('pull', `${server.host}/carol/web@${digest}`);
    assert.equal((await inspect(`${server.host}/carol/web@${digest}`)).Id, image.configDigest);
  });

  it('pulls `latest` when no tag is given', { skip: tools.skip }, async () => {
    await removeAll();
    const archive = join(work, 'latest.tar');
    const latest = await writeDockerArchive(archive, { repoTag: 'berth-fixture/web:latest', label: 'docker-latest' });
    await docker('load', '--input', archive);
    await docker('tag', 'berth-fixture/web:latest', `${server.host}/carol/web:latest`);
    const digest = pushedDigest(await docker('push', `${server.host}/carol/web:latest`));
    assert.equal((await headManifest(server, 'carol/web', 'latest')).digest, digest);

    await removeAll();
    const pull = await docker('pull', `${server.host}/carol/web`);
    assert.match(pull.stdout, /Using default tag: latest/);
    const pulled = await inspect(`${server.host}/carol/web:latest`);
    assert.equal(pulled.Id, latest.configDigest);
    assert.deepEqual(pulled.RepoDigests, [`${server.host}/carol/web@${digest}`]);
  });

  it('pulls one platform of a multi-arch OCI index pushed over the HTTP API', { skip: tools.skip }, async () => {
    await removeAll();
    const images = ['amd64', 'arm64'].map((architecture) => buildImage({ architecture, label: 'docker-multi' }));
    const index = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.ociIndex,
      manifests: images.map((i) => ({ mediaType: MT.ociManifest, digest: i.manifestDigest, size: i.manifestSize, platform: { architecture: i.architecture, os: 'linux' } })),
    }));
    for (const img of images) {
      for (const [digest, blob] of img.blobs) await uploadBlob(server.url, 'carol/multi', digest, blob);
      await putManifest(server.url, 'carol/multi', img.manifestDigest, MT.ociManifest, img.manifest);
    }
    await putManifest(server.url, 'carol/multi', 'v1', MT.ociIndex, index);

    for (const img of images) {
      const ref = `${server.host}/carol/multi:v1`;
      await docker('pull', '--platform', `linux/${img.architecture}`, ref);
      const pulled = await inspect(ref);
      assert.equal(pulled.Architecture, img.architecture);
      assert.equal(pulled.Id, img.configDigest);
      assert.ok(pulled.RepoDigests.length > 0, 'a pulled image records a RepoDigest');
      await removeAll();
    }
  });
});

async function uploadBlob(url: string, repo: string, digest: string, blob: Buffer): Promise<void> {
  const start = await fetch(`${url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  assert.equal(start.status, 202, `POST /v2/${repo}/blobs/uploads/ -> ${start.status} ${await start.text()}`);
  const location = new URL(start.headers.get('location') ?? '', url);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body: new Uint8Array(blob), headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(put.status, 201, `PUT ${location.pathname}?digest=${digest} -> ${put.status} ${await put.text()}`);
}

async function putManifest(url: string, repo: string, ref: string, mediaType: string, body: Buffer): Promise<void> {
  const res = await fetch(`${url}/v2/${repo}/manifests/${ref}`, { method: 'PUT', body: new Uint8Array(body), headers: { 'content-type': mediaType } });
  assert.equal(res.status, 201, `PUT /v2/${repo}/manifests/${ref} -> ${res.status} ${await res.text()}`);
}
