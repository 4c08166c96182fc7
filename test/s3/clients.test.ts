/**
 * Real clients against berth on S3 (Ceph RGW): two in-process berths on one bucket, each configured
 * through the real config loader from environment variables only, as an operator would start them:
 *
 *  - "redirect": berth's own REGISTRY_STORAGE_S3_* and the default storage.redirect, so every blob
 *    GET answers 307 to a presigned RGW URL;
 *  - "streamed": a docker-registry tutorial's SETTINGS_FLAVOR=s3, AWS_BUCKET, AWS_KEY, AWS_SECRET,
 *    STORAGE_PATH (plus the endpoint settings RGW needs) and REGISTRY_STORAGE_REDIRECT_DISABLE, so
 *    berth streams the bytes itself.
 *
 * skopeo pushes a small image with a 6 MiB layer (above the 5 MiB part size: a multipart upload) to
 * both; skopeo, podman and docker pull it from both. The access log tells what berth answered to
 * each blob GET (307 or 200); the clients' own digest checks and the image IDs and digests they
 * record tell that they followed the redirect and got the right bytes.
 *
 * Skips with the reason when radosgw, skopeo, podman or dockerd is missing; fails under CI=true.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import { startRegistry, type RunningRegistry } from '../../src/main.ts';
import { writeSingleArchLayout, type SingleArchLayout } from '../fixtures/oci.ts';
import { startCephS3, type CephS3 } from '../helpers/ceph-s3.ts';
import { dockerdWarnings, startDockerd, stopDockerd, type Daemon } from '../helpers/dockerd.ts';
import { podmanSandbox, type PodmanSandbox } from '../helpers/podman.ts';
import { requireTools, run, runOk, tempDir, type RunResult } from '../helpers/process.ts';

const tools = requireTools('radosgw', 'ceph-mon', 'ceph-osd', 'skopeo', 'podman', 'dockerd', 'docker');
const BUCKET = 'berth-clients';
const MiB = 1024 * 1024;
const REPO = 'team/app';

/** One line of berth's access log. */
interface Access {
  method: string;
  route: string;
  status: number;
  bytesOut?: number;
}

interface Berth {
  name: string;
  running: RunningRegistry;
  host: string;
  access: Access[];
  warnings: string[];
  /** Statuses of the blob GETs logged since `from` (an index into `access`). */
  blobGets(from: number): number[];
}

async function startS3Berth(name: string, env: NodeJS.ProcessEnv): Promise<Berth> {
  const { config, warnings } = loadConfig({ env: { REGISTRY_HTTP_ADDR: '127.0.0.1:0', REGISTRY_UI_ENABLED: 'false', ...env } });
  const access: Access[] = [];
  const log = pino({ level: 'info' }, {
    write(line: string) {
      const entry = JSON.parse(line) as Access & { msg: string; level: number };
      if (entry.msg === 'request') access.push(entry);
      else if (entry.level >= 50) process.stderr.write(`[berth ${name}] ${line}`);
    },
  });
  const running = await startRegistry(config, log);
  return {
    name,
    running,
    host: `127.0.0.1:${running.address.port}`,
    access,
    warnings,
    blobGets: (from) => access.slice(from).filter((a) => a.route === 'blob' && a.method === 'GET').map((a) => a.status),
  };
}

function sha256File(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

describe('skopeo, podman and docker with berth on S3 (Ceph RGW)', { skip: tools.skip }, () => {
  let ceph: CephS3 | undefined;
  let work: string;
  let image: SingleArchLayout;
  let redirect: Berth | undefined;
  let streamed: Berth | undefined;
  let daemon: Daemon | undefined;
  let sandbox: PodmanSandbox | undefined;

  const servers = (): [Berth, Berth] => {
    assert.ok(redirect !== undefined && streamed !== undefined, 'berth is not running');
    return [redirect, streamed];
  };
  const blobCount = () => 1 + image.image.layerDigests.length;
  const context = () =>
    servers()
      .map((b) => `--- ${b.name}: last requests ---\n${b.access.slice(-12).map((a) => JSON.stringify(a)).join('\n')}`)
      .join('\n') + (daemon !== undefined ? `\n--- dockerd warnings ---\n${dockerdWarnings(work)}` : '');
  const skopeo = (...args: string[]): Promise<RunResult> => runOk('skopeo', args, { context, timeout: 60_000 });
  const podman = (...args: string[]): Promise<RunResult> => {
    assert.ok(sandbox !== undefined);
    return runOk('podman', [...sandbox.globals, ...args], { env: sandbox.env, context, timeout: 60_000 });
  };
  const docker = (...args: string[]): Promise<RunResult> => {
    assert.ok(daemon !== undefined);
    return runOk('docker', args, { env: daemon.env, context, timeout: 60_000 });
  };

  /** Runs a pull against each berth and checks what berth answered to its blob GETs. */
  const pullFromBoth = async (pull: (b: Berth) => Promise<void>): Promise<void> => {
    for (const b of servers()) {
      const from = b.access.length;
      await pull(b);
      const statuses = b.blobGets(from);
      const expected = b === redirect ? 307 : 200;
      assert.ok(statuses.length >= blobCount(), `${b.name}: ${statuses.length} blob GETs for ${blobCount()} blobs\n${context()}`);
      assert.deepEqual([...new Set(statuses)], [expected], `${b.name}: blob GETs answered ${statuses.join(', ')}`);
    }
  };

  before(async () => {
    tools.check();
    work = await tempDir('s3-clients');
    ceph = await startCephS3();
    await ceph.createBucket(BUCKET);
    const endpoint = {
      REGISTRY_STORAGE_S3_REGIONENDPOINT: ceph.endpoint,
      REGISTRY_STORAGE_S3_FORCEPATHSTYLE: 'true',
      REGISTRY_STORAGE_S3_CHECKSUMS: 'when_required',
      REGISTRY_STORAGE_S3_CHUNKSIZE: String(5 * MiB),
    };
    [redirect, streamed, image] = await Promise.all([
      startS3Berth('redirect', {
        ...endpoint,
        REGISTRY_STORAGE_S3_BUCKET: BUCKET,
        REGISTRY_STORAGE_S3_REGION: 'us-east-1',
        REGISTRY_STORAGE_S3_ACCESSKEY: ceph.accessKey,
        REGISTRY_STORAGE_S3_SECRETKEY: ceph.secretKey,
        REGISTRY_STORAGE_S3_ROOTDIRECTORY: '/redirect',
        REGISTRY_META_SQLITE_PATH: join(work, 'redirect.db'),
      }),
      startS3Berth('streamed', {
        ...endpoint,
        SETTINGS_FLAVOR: 's3',
        AWS_BUCKET: BUCKET,
        AWS_KEY: ceph.accessKey,
        AWS_SECRET: ceph.secretKey,
        STORAGE_PATH: '/streamed',
        REGISTRY_STORAGE_REDIRECT_DISABLE: 'true',
        REGISTRY_META_SQLITE_PATH: join(work, 'streamed.db'),
      }),
      writeSingleArchLayout(join(work, 'layout'), { tag: '1.0', label: 's3-clients', dataBytes: 6 * MiB }),
    ]);
    await Promise.all(['docker', 'podman'].map((d) => mkdir(join(work, d))));
    [daemon, sandbox] = await Promise.all([startDockerd(join(work, 'docker'), redirect.host), podmanSandbox(join(work, 'podman'), redirect.host)]);
  });

  after(async () => {
    if (daemon !== undefined) await stopDockerd(daemon, join(work, 'docker'));
    if (sandbox !== undefined) await run('podman', [...sandbox.globals, 'rmi', '--all', '--force'], { env: sandbox.env });
    await Promise.all([redirect?.running.close(1000), streamed?.running.close(1000)]);
    await ceph?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('loads both configs from the environment: berth\'s own variables, and the tutorial\'s with a notice each', () => {
    const [a, b] = servers();
    assert.deepEqual(a.warnings, []);
    for (const variable of ['AWS_BUCKET', 'AWS_KEY', 'AWS_SECRET', 'STORAGE_PATH']) {
      assert.ok(b.warnings.some((w) => w.startsWith(variable)), `no notice for ${variable}: ${b.warnings.join(' | ')}`);
    }
    assert.ok(!b.warnings.join('\n').includes(ceph?.secretKey ?? '?'), 'the secret is never shown');
  });

  it('skopeo pushes to both; the blobs land in the bucket under each root directory', async () => {
    for (const b of servers()) {
      await skopeo('copy', '--dest-tls-verify=false', `oci:${image.dir}:1.0`, `docker://${b.host}/${REPO}:1.0`);
    }
    for (const root of ['redirect/', 'streamed/']) {
      const listed = await ceph?.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: root }));
      const keys = (listed?.Contents ?? []).map((o) => o.Key ?? '');
      const layer = image.image.layerDigests.at(-1)?.slice('sha256:'.length) ?? '?';
      assert.ok(keys.some((k) => k.includes(layer)), `the 6 MiB layer under ${root}: ${keys.join(', ')}`);
    }
  });

  it('skopeo pulls from both: 307 to RGW from one, bytes from berth from the other, every digest right', async () => {
    await pullFromBoth(async (b) => {
      const dir = join(work, `skopeo-${b.name}`);
      await skopeo('copy', '--src-tls-verify=false', `docker://${b.host}/${REPO}:1.0`, `oci:${dir}:pulled`);
      const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
      assert.equal(index.manifests[0]?.digest, image.image.manifestDigest);
      for (const digest of [image.image.configDigest, ...image.image.layerDigests]) {
        assert.equal(sha256File(await readFile(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)))), digest);
      }
    });
  });

  it('podman pulls from both, recording the manifest digest and the image ID', async () => {
    await pullFromBoth(async (b) => {
      const ref = `${b.host}/${REPO}:1.0`;
      await podman('pull', '--tls-verify=false', ref);
      const [info] = JSON.parse((await podman('image', 'inspect', ref)).stdout) as { Id: string; Digest: string }[];
      assert.equal(info?.Digest, image.image.manifestDigest);
      assert.equal(`sha256:${info?.Id ?? ''}`, image.image.configDigest);
      await podman('rmi', '--force', ref); // else the next pull finds every blob at hand
    });
  });

  it('docker pulls from both, recording RepoDigests and the image ID', async () => {
    await pullFromBoth(async (b) => {
      const ref = `${b.host}/${REPO}:1.0`;
      await docker('pull', ref);
      const [info] = JSON.parse((await docker('image', 'inspect', ref)).stdout) as { Id: string; RepoDigests: string[] }[];
      assert.equal(info?.Id, image.image.configDigest);
      assert.deepEqual(info?.RepoDigests, [`${b.host}/${REPO}@${image.image.manifestDigest}`]);
      await docker('image', 'rm', '--force', ref); // else the next pull finds every layer at hand
    });
  });
});
