/**
 * The cluster test: PostgreSQL + Ceph RGW (S3) + three berth nodes running deploy/cluster/berth.yml
 * behind Debian's nginx with deploy/cluster/nginx.conf (round-robin), all on loopback. Real clients
 * push and pull through nginx; a chunked upload sends each request to another node; a tag moved on
 * one node is read on the others at once; a token and a user made on one node work on every other;
 * catalog and search are the same from every node; a node killed with SIGKILL in the middle of
 * pushes loses nothing that a client was told had landed.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MT, sha256, writeDockerArchive, writeSingleArchLayout } from '../fixtures/oci.ts';
import { AuthClient, basicHeader, type Credentials } from '../helpers/auth-client.ts';
import { cephTools, startCephS3, type CephS3 } from '../helpers/ceph-s3.ts';
import { dockerdWarnings, startDockerd, stopDockerd, type Daemon } from '../helpers/dockerd.ts';
import { podmanSandbox } from '../helpers/podman.ts';
import { postgresBin, startPostgres, type Postgres } from '../helpers/postgres.ts';
import { freePort, IN_CI, REPO_ROOT, requireTools, run, runOk, startBerth, tempDir, type BerthProcess, type RunResult } from '../helpers/process.ts';

const NODE_CONFIG = join(REPO_ROOT, 'deploy', 'cluster', 'berth.yml');
const NGINX_CONFIG = join(REPO_ROOT, 'deploy', 'cluster', 'nginx.conf');
const ADMIN: Credentials = { user: 'admin', password: 'cluster-admin-password' };

const tools = requireTools('nginx', 'skopeo', 'podman', 'dockerd', 'docker');
const ceph = cephTools();
const pgBin = await postgresBin();
const skip = tools.skip || ceph.skip || (pgBin === undefined && !IN_CI ? 'PostgreSQL is not installed (Debian package postgresql)' : false);
if (skip !== false) console.log(`# skipping the cluster test: ${skip}`);

/** nginx in the foreground with deploy/cluster/nginx.conf, its upstreams and port rewritten to these. */
async function startNginx(work: string, port: number, nodes: readonly BerthProcess[]): Promise<{ stop(): Promise<void>; logs(): string }> {
  const prefix = join(work, 'nginx');
  await mkdir(prefix, { recursive: true });
  // the workers run as nobody: they must reach the prefix's temp directories
  for (const dir of [work, prefix]) await chmod(dir, 0o755);
  let conf = (await readFile(NGINX_CONFIG, 'utf8')).replace('listen 127.0.0.1:5000;', `listen 127.0.0.1:${port};`);
  nodes.forEach((node, i) => (conf = conf.replace(`server 127.0.0.1:${5001 + i} `, `server ${node.host} `)));
  assert.doesNotMatch(conf, /127\.0\.0\.1:500[0-3]\b/, 'every address of the deploy file was rewritten');
  await writeFile(join(prefix, 'nginx.conf'), conf);
  // its own process group, and its log in a file: the workers must not outlive the test, nor hold its pipes open
  const logFile = join(prefix, 'error.log');
  const fd = openSync(logFile, 'a');
  const child: ChildProcess = spawn('nginx', ['-p', `${prefix}/`, '-c', 'nginx.conf'], { stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  const output = (): string => {
    try {
      return readFileSync(logFile, 'utf8').slice(-20_000);
    } catch {
      return '';
    }
  };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killGroup = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    }
    killGroup();
    process.off('exit', killGroup);
  };
  process.on('exit', killGroup);
  for (const deadline = Date.now() + 10_000; ; ) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${output()}`);
    if (await fetch(`http://127.0.0.1:${port}/v2/`).then(() => true, () => false)) return { stop, logs: output };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`nginx did not answer: ${output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a cluster: three berth nodes on PostgreSQL and S3 behind nginx', { skip }, () => {
  let work: string;
  let pg: Postgres;
  let s3: CephS3;
  let nodes: BerthProcess[] = [];
  let nginx: { stop(): Promise<void>; logs(): string };
  let lb: string;
  let daemon: Daemon | undefined;
  let env: Record<string, string | undefined>;

  const logs = (): string =>
    [...nodes.map((n, i) => `--- node ${i + 1} (${n.host}) ---\n${n.logs().slice(-4000)}`), `--- nginx ---\n${nginx?.logs().slice(-3000) ?? ''}`].join('\n');
  const skopeo = (...args: string[]): Promise<RunResult> => runOk('skopeo', args, { context: logs, timeout: 120_000 });
  /** An API client of one node (or the load balancer) as the administrator. */
  const client = (base: string): AuthClient => new AuthClient(base.startsWith('http') ? base : `http://${base}`, ADMIN);
  const berthCli = (args: string[], input?: string): Promise<RunResult> =>
    runOk(process.execPath, ['bin/berth.js', ...args, '--config', NODE_CONFIG], { cwd: REPO_ROOT, env: { ...env, BERTH_FROM_SOURCE: '1' }, input, context: logs });

  before(async () => {
    tools.check();
    ceph.check();
    work = await tempDir('cluster');
    [pg, s3] = await Promise.all([startPostgres(), startCephS3()]);
    await s3.createBucket('berth');
    env = {
      BERTH_PG_URL: pg.url,
      BERTH_S3_ENDPOINT: s3.endpoint,
      REGISTRY_STORAGE_S3_ACCESSKEY: s3.accessKey,
      REGISTRY_STORAGE_S3_SECRETKEY: s3.secretKey,
      // the test harness's default root directory would name a second storage driver
      REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: undefined,
    };
    // the first user, made by the CLI on the shared database (it migrates the schema): access control is on everywhere
    await berthCli(['user', 'add', ADMIN.user, '--admin', '--password-stdin'], `${ADMIN.password}\n`);
    nodes = await Promise.all([1, 2, 3].map(() => startBerth({ configFile: NODE_CONFIG, env, readyTimeoutMs: 60_000 })));
    const port = await freePort();
    nginx = await startNginx(work, port, nodes);
    lb = `127.0.0.1:${port}`;
  });

  after(async () => {
    if (daemon !== undefined) await stopDockerd(daemon, work);
    await nginx?.stop();
    await Promise.all(nodes.map((n) => n.stop()));
    await Promise.all([s3?.stop(), pg?.stop()]);
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('every node is ready, its readiness checking the database and the bucket', async () => {
    for (const node of nodes) {
      const res = await fetch(`${node.url}/readyz`);
      const body = (await res.json()) as { status: string; checks: { name: string; ok: boolean }[] };
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.deepEqual(body.checks.map((c) => [c.name, c.ok]).sort(), [['meta', true], ['storage', true]]);
    }
  });

  it('skopeo pushes through nginx; podman and docker pull it back through nginx, following the redirect to the bucket', async () => {
    const layout = await writeSingleArchLayout(join(work, 'app'), { tag: '1.0', label: 'cluster-app', dataBytes: 3 << 20 });
    await skopeo('copy', '--dest-tls-verify=false', '--dest-creds', `${ADMIN.user}:${ADMIN.password}`, `oci:${layout.dir}:1.0`, `docker://${lb}/admin/app:1.0`);
    // a blob GET on any node answers 307 to a presigned URL on the bucket
    const blob = layout.image.layerDigests[0] ?? '';
    for (const node of nodes) {
      const res = await client(node.url).fetch(`/v2/admin/app/blobs/${blob}`, { redirect: 'manual' });
      assert.equal(res.status, 307, `node ${node.host}`);
      assert.ok(res.headers.get('location')?.startsWith(`${s3.endpoint}/berth/`), res.headers.get('location') ?? '');
    }

    const box = await podmanSandbox(join(work, 'podman'), lb);
    const podman = (...args: string[]): Promise<RunResult> => runOk('podman', [...box.globals, ...args], { env: box.env, context: logs, timeout: 180_000 });
    await runOk('podman', [...box.globals, 'login', '--tls-verify=false', lb, '-u', ADMIN.user, '--password-stdin'], { env: box.env, input: `${ADMIN.password}\n`, context: logs });
    await podman('pull', `${lb}/admin/app:1.0`);
    const inspected = JSON.parse((await podman('image', 'inspect', `${lb}/admin/app:1.0`)).stdout) as { Digest: string }[];
    assert.equal(inspected[0]?.Digest, layout.image.manifestDigest);

    await mkdir(join(work, 'docker'));
    daemon = await startDockerd(join(work, 'docker'), lb);
    const docker = (...args: string[]): Promise<RunResult> =>
      runOk('docker', args, { env: daemon?.env ?? {}, context: () => `${logs()}\n--- dockerd ---\n${dockerdWarnings(join(work, 'docker'))}`, timeout: 180_000 });
    await runOk('docker', ['login', lb, '-u', ADMIN.user, '--password-stdin'], { env: daemon.env, input: `${ADMIN.password}\n`, context: logs });
    await docker('pull', `${lb}/admin/app:1.0`);
    const digests = JSON.parse((await docker('image', 'inspect', '--format', '{{json .RepoDigests}}', `${lb}/admin/app:1.0`)).stdout) as string[];
    assert.deepEqual(digests, [`${lb}/admin/app@${layout.image.manifestDigest}`]);

    // and docker pushes through nginx: its layer upload is a POST, a PATCH and a PUT, each to any node
    const archive = join(work, 'web.tar');
    await writeDockerArchive(archive, { repoTag: 'cluster/web:2.0', label: 'cluster-docker', dataBytes: 2 << 20 });
    await docker('load', '--input', archive);
    await docker('tag', 'cluster/web:2.0', `${lb}/admin/web:2.0`);
    const pushed = /digest: (sha256:[0-9a-f]{64})/.exec((await docker('push', `${lb}/admin/web:2.0`)).stdout)?.[1];
    for (const node of nodes) {
      const res = await client(node.url).fetch('/v2/admin/web/manifests/2.0', { method: 'HEAD', headers: { accept: MT.dockerManifest } });
      assert.equal(res.headers.get('docker-content-digest'), pushed, `node ${node.host}`);
    }
  });

  it('a chunked upload whose POST, PATCHes and PUT each reach another node lands whole', async () => {
    const data = Buffer.concat([Buffer.alloc(6 << 20, 1), Buffer.alloc(5 << 20, 2), Buffer.alloc(1 << 20, 3)]);
    const digest = sha256(data);
    const [a, b, c] = nodes.map((n) => client(n.url));
    assert.ok(a && b && c);
    const started = await a.fetch('/v2/admin/chunked/blobs/uploads/', { method: 'POST' });
    assert.equal(started.status, 202, await started.text());
    let location = new URL(started.headers.get('location') ?? '', a.base).pathname + new URL(started.headers.get('location') ?? '', a.base).search;
    let offset = 0;
    for (const [via, size] of [[b, 6 << 20], [c, 5 << 20]] as const) {
      const res = await via.fetch(location, {
        method: 'PATCH',
        body: data.subarray(offset, offset + size),
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + size - 1}` },
      });
      assert.equal(res.status, 202, `${via.base}: ${await res.text()}`);
      offset += size;
      assert.equal(res.headers.get('range'), `0-${offset - 1}`);
      const next = new URL(res.headers.get('location') ?? '', via.base);
      location = next.pathname + next.search;
    }
    const sep = location.includes('?') ? '&' : '?';
    const done = await a.fetch(`${location}${sep}digest=${digest}`, { method: 'PUT', body: data.subarray(offset), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(done.status, 201, await done.text());
    const back = await b.fetch(`/v2/admin/chunked/blobs/${digest}`);
    assert.equal(back.status, 200);
    assert.equal(sha256(Buffer.from(await back.arrayBuffer())), digest);
  });

  it('a tag moved or deleted on one node is seen by the others at once', async () => {
    const [a, b, c] = nodes.map((n) => client(n.url));
    assert.ok(a && b && c);
    const config = await a.pushBlob('admin/moving', '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}', 'application/vnd.oci.image.config.v1+json');
    const manifest = (n: number) => ({ schemaVersion: 2, mediaType: MT.ociManifest, config, layers: [], annotations: { n: String(n) } });
    const digestOf = async (via: AuthClient): Promise<string | null> =>
      (await via.fetch('/v2/admin/moving/manifests/latest', { method: 'HEAD', headers: { accept: MT.ociManifest } })).headers.get('docker-content-digest');
    const writers = [a, b, c, a];
    for (let i = 0; i < writers.length; i++) {
      const writer: AuthClient = writers[i] ?? a;
      const res: Response = await writer.putManifest('admin/moving', 'latest', manifest(i), MT.ociManifest);
      assert.equal(res.status, 201);
      const expected = res.headers.get('docker-content-digest');
      const readers: AuthClient[] = [a, b, c];
      for (const reader of readers) {
        const seen: string | null = await digestOf(reader);
        assert.equal(seen, expected, `pushed on ${writer.base}, read on ${reader.base}`);
      }
    }
    // every node caches the manifest by digest; a delete on one is announced to the others (NOTIFY)
    const digest = await digestOf(c);
    const byDigest = (via: AuthClient): Promise<number> =>
      via.fetch(`/v2/admin/moving/manifests/${digest}`, { method: 'HEAD', headers: { accept: MT.ociManifest } }).then((r) => r.status);
    for (const reader of [a, b, c]) assert.equal(await byDigest(reader), 200);
    const del = await b.fetch(`/v2/admin/moving/manifests/${digest}`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    for (const reader of [a, b, c]) assert.equal((await reader.fetch('/v2/admin/moving/manifests/latest', { method: 'HEAD' })).status, 404);
    for (const reader of [a, c]) {
      const deadline = Date.now() + 2_000;
      while ((await byDigest(reader)) !== 404) assert.ok(Date.now() < deadline, `${reader.base} still serves the deleted manifest by digest`);
    }
  });

  it('a token from one node works on every other; a user added on one node logs in on the others', async () => {
    const [a, b, c] = nodes;
    assert.ok(a && b && c);
    const res = await fetch(`${a.url}/auth/token?service=berth&scope=repository:admin/app:pull`, { headers: { authorization: basicHeader(ADMIN) } });
    const { token } = (await res.json()) as { token: string };
    for (const node of [b, c]) {
      const tags = await fetch(`${node.url}/v2/admin/app/tags/list`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(tags.status, 200, `node ${node.host}`);
    }
    const added = await fetch(`${b.url}/api/v1/users`, {
      method: 'POST',
      headers: { authorization: basicHeader(ADMIN), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'carol', password: 'carol-password-1' }),
    });
    assert.equal(added.status, 201, await added.text());
    for (const node of [a, c]) {
      const login = await fetch(`${node.url}/auth/token?service=berth`, { headers: { authorization: basicHeader({ user: 'carol', password: 'carol-password-1' }) } });
      assert.equal(login.status, 200, `carol on ${node.host}`);
    }
  });

  it('catalog and search answer the same from every node', async () => {
    const answers = await Promise.all(
      nodes.map(async (node) => {
        const c = client(node.url);
        const catalog = await (await c.catalog()).json();
        const search = await (await c.fetch('/v1/search?q=app')).json();
        return JSON.stringify({ catalog, search });
      }),
    );
    assert.ok(answers[0]?.includes('admin/app'), answers[0]);
    assert.deepEqual(new Set(answers).size, 1, answers.join('\n'));
  });

  it('a node killed with SIGKILL during pushes: the clients retry on the others, and every push they were told landed is there', async () => {
    const images = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => writeSingleArchLayout(join(work, `push-${i}`), { tag: 'v1', label: `kill-${i}`, dataBytes: 1 << 20 })));
    const victim = nodes[1];
    assert.ok(victim);
    /** A push as a CI job does it: skopeo with its retries, and the job's own retry of the whole copy. */
    const push = async (i: number): Promise<string | undefined> => {
      const image = images[i - 1];
      assert.ok(image);
      for (let attempt = 0; attempt < 4; attempt++) {
        const r = await run('skopeo', ['copy', '--retry-times', '3', '--dest-tls-verify=false', '--dest-creds', `${ADMIN.user}:${ADMIN.password}`, `oci:${image.dir}:v1`, `docker://${lb}/admin/kill-${i}:v1`], { timeout: 120_000 });
        if (r.code === 0) return image.image.manifestDigest;
      }
      return undefined;
    };
    const pushes = [1, 2, 3, 4, 5, 6].map((i) => push(i));
    // kill a node once the first push is under way
    await new Promise((r) => setTimeout(r, 300));
    victim.kill('SIGKILL');
    const landed = await Promise.all(pushes);
    assert.ok(landed.every((d) => d !== undefined), `every push landed in the end: ${JSON.stringify(landed)}\n${logs()}`);
    const survivors = nodes.filter((n) => n !== victim);
    for (let i = 1; i <= 6; i++) {
      const image = images[i - 1];
      assert.ok(image);
      for (const node of survivors) {
        const c = client(node.url);
        const head = await c.fetch(`/v2/admin/kill-${i}/manifests/v1`, { method: 'HEAD', headers: { accept: MT.ociManifest } });
        assert.equal(head.headers.get('docker-content-digest'), landed[i - 1], `kill-${i} on ${node.host}`);
        const digests: string[] = [image.image.configDigest, ...image.image.layerDigests];
        for (const digest of digests) {
          const blob: Response = await c.fetch(`/v2/admin/kill-${i}/blobs/${digest}`);
          const bytes: Buffer = Buffer.from(await blob.arrayBuffer());
          assert.equal(sha256(bytes), digest);
        }
      }
    }
  });
});
