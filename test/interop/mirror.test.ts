/**
 * The mirror with real clients: skopeo pulls by tag and by digest through berth mirroring a
 * second berth, and a private dockerd configured with `registry-mirrors` in its daemon.json
 * pulls `busybox` (a fixture the upstream serves as `library/busybox`) through berth. Both berths
 * run as processes; the mirror is configured through the environment (REGISTRY_PROXY_REMOTEURL),
 * distribution's way. There is no internet here: a pull that bypassed the mirror would fail.
 */
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildImage, type BuiltImage } from '../fixtures/oci.ts';
import { dockerdWarnings, startDockerd, stopDockerd, type Daemon } from '../helpers/dockerd.ts';
import { delta, pushBuiltImage, requestCounts } from '../helpers/mirror.ts';
import { requireTools, runOk, startBerth, tempDir, type BerthProcess, type RunResult } from '../helpers/process.ts';

interface Pair {
  upstream: BerthProcess;
  mirror: BerthProcess;
}

async function startPair(): Promise<Pair> {
  const upstream = await startBerth();
  try {
    const mirror = await startBerth({ env: { REGISTRY_PROXY_REMOTEURL: upstream.url, REGISTRY_PROXY_TTL: '1h' } });
    return { upstream, mirror };
  } catch (e) {
    await upstream.stop();
    throw e;
  }
}

async function stopPair(pair: Pair | undefined): Promise<void> {
  await pair?.mirror.stop();
  await pair?.upstream.stop();
}

const skopeoTools = requireTools('skopeo');

describe('skopeo through the mirror', { skip: skopeoTools.skip }, () => {
  let pair: Pair;
  let work: string;
  let image: BuiltImage;
  const logs = (): string => `--- mirror logs ---\n${pair.mirror.logs().slice(-6000)}\n--- upstream logs ---\n${pair.upstream.logs().slice(-3000)}`;
  const skopeo = (...args: string[]): Promise<RunResult> => runOk('skopeo', args, { context: logs });

  before(async () => {
    skopeoTools.check();
    pair = await startPair();
    work = await tempDir('mirror-skopeo');
    image = buildImage({ label: 'mirror-skopeo' });
    await pushBuiltImage(pair.upstream.url, 'team/app', '1.0', image);
  });
  after(async () => {
    await stopPair(pair);
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('copies by tag, then by digest from the cache, with the upstream asked once per blob', async () => {
    const before = await requestCounts(pair.upstream.url);
    await skopeo('copy', '--src-tls-verify=false', `docker://${pair.mirror.host}/team/app:1.0`, `oci:${join(work, 'by-tag')}:1.0`);
    const index = JSON.parse(await readFile(join(work, 'by-tag', 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    assert.equal(index.manifests[0]?.digest, image.manifestDigest);
    for (const digest of image.blobs.keys()) {
      assert.deepEqual(await readFile(join(work, 'by-tag', 'blobs', 'sha256', digest.slice(7))), image.blobs.get(digest));
    }
    const afterTag = await requestCounts(pair.upstream.url);
    assert.equal(delta(before, afterTag, 'blob GET'), image.blobs.size);

    await skopeo('copy', '--src-tls-verify=false', `docker://${pair.mirror.host}/team/app@${image.manifestDigest}`, `oci:${join(work, 'by-digest')}:x`);
    const inspect = JSON.parse((await skopeo('inspect', '--tls-verify=false', `docker://${pair.mirror.host}/team/app@${image.manifestDigest}`)).stdout) as {
      Digest: string;
      Layers: string[];
    };
    assert.equal(inspect.Digest, image.manifestDigest);
    assert.deepEqual(inspect.Layers, image.layerDigests);
    const afterDigest = await requestCounts(pair.upstream.url);
    assert.equal(delta(afterTag, afterDigest, 'blob GET') + delta(afterTag, afterDigest, 'manifest GET'), 0, 'served from the cache');
  });
});

const dockerTools = requireTools('dockerd', 'docker');

describe('dockerd with registry-mirrors pointing at berth', { skip: dockerTools.skip }, () => {
  let pair: Pair;
  let work: string;
  let daemon: Daemon | undefined;
  const logs = (): string => `--- mirror logs ---\n${pair.mirror.logs().slice(-6000)}\n--- dockerd warnings ---\n${dockerdWarnings(work)}`;
  const docker = (...args: string[]): Promise<RunResult> => {
    if (daemon === undefined) throw new Error('dockerd is not running');
    return runOk('docker', args, { env: daemon.env, context: logs, timeout: 180_000 });
  };

  before(async () => {
    dockerTools.check();
    pair = await startPair();
    work = await tempDir('mirror-docker');
    daemon = await startDockerd(work, pair.mirror.host, { 'registry-mirrors': [pair.mirror.url] });
  });
  after(async () => {
    if (daemon !== undefined) await stopDockerd(daemon, work);
    await stopPair(pair);
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('pulls `busybox` through the mirror, and again from the cache after removing it', async () => {
    const image = buildImage({ label: 'mirror-busybox' });
    await pushBuiltImage(pair.upstream.url, 'library/busybox', 'latest', image);

    const before = await requestCounts(pair.upstream.url);
    await docker('pull', 'busybox');
    const inspected = JSON.parse((await docker('image', 'inspect', 'busybox:latest')).stdout) as { Id: string; RepoDigests: string[] }[];
    assert.equal(inspected[0]?.Id, image.configDigest);
    assert.deepEqual(inspected[0]?.RepoDigests, [`busybox@${image.manifestDigest}`]);
    const first = await requestCounts(pair.upstream.url);
    assert.equal(delta(before, first, 'blob GET'), image.blobs.size, 'every blob came from the upstream through berth');

    await docker('image', 'rm', 'busybox:latest');
    await docker('pull', `busybox@${image.manifestDigest}`);
    const second = await requestCounts(pair.upstream.url);
    assert.equal(delta(first, second, 'blob GET'), 0, 'the second pull is served by the mirror alone');

    const status = (await (await fetch(`${pair.mirror.url}/api/v1/mirror`)).json()) as { upstreams: { hits: number; bytesSaved: number }[] };
    assert.ok((status.upstreams[0]?.hits ?? 0) >= image.blobs.size);
  });
});
