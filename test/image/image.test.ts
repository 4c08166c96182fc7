/**
 * berth's container image, end to end: deploy/build-image.sh builds it (offline, from this
 * machine's Node and the repository), skopeo pushes it into an in-process berth, podman pulls it
 * from there and runs it as the README does (`-p 127.0.0.1:PORT:5000 -v DIR:/data`); an image is
 * pushed and pulled through the containerised registry, its bytes and database land in the
 * volume, SIGTERM stops it cleanly, and a new container on the same volume serves the image
 * again. Prints the image's size, the build time and the time from `podman run` to /v2/.
 *
 * The build is not cached: it takes about 30 s on 2 idle cores, and a cache would have to know
 * every input (sources, lock file, node_modules, the Node binary, the libraries).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeSingleArchLayout, type SingleArchLayout } from '../fixtures/oci.ts';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';
import { containerSandbox, type ContainerSandbox } from '../helpers/podman-run.ts';
import { freePort, requireTools, REPO_ROOT, run, runOk, tempDir, type RunResult } from '../helpers/process.ts';

const tools = requireTools('buildah', 'podman', 'skopeo');
/** The user the image runs as (deploy/build-image.sh). */
const IMAGE_UID = 10001;
const asRoot = process.getuid?.() === 0;

interface ImageConfig {
  config: {
    User?: string;
    ExposedPorts?: Record<string, object>;
    Env?: string[];
    Entrypoint?: string[];
    Cmd?: string[];
    Volumes?: Record<string, object>;
    StopSignal?: string;
    Labels?: Record<string, string>;
  };
}

describe('container image (deploy/build-image.sh)', { skip: tools.skip, timeout: 15 * 60_000 }, () => {
  let work: string;
  let upstream: TestRegistry;
  let sandbox: ContainerSandbox;
  let imageRef: string;
  let fixture: SingleArchLayout;
  let data: string;
  let container = '';
  let port = 0;

  /** The current container's output, for a failing command's message. */
  const logs = (): string => {
    if (container === '') return '';
    const out = spawnSync('podman', [...sandbox.globals, 'logs', container], { env: { ...process.env, ...sandbox.env }, encoding: 'utf8' });
    return `--- podman logs ${container} ---\n${(out.stdout + out.stderr).slice(-8000)}`;
  };
  const skopeo = (...args: string[]): Promise<RunResult> => runOk('skopeo', args, { timeout: 300_000, context: logs });
  const registry = (): string => `127.0.0.1:${port}`;

  /** Starts the image on `data` with port `port` published on 127.0.0.1; ms until /v2/ answers. */
  async function startContainer(name: string): Promise<number> {
    port = await freePort();
    container = name;
    const volume = asRoot ? `${data}:/data` : `${data}:/data:U`;
    const started = performance.now();
    await sandbox.podman('run', '-d', '--name', name, ...sandbox.runFlags, '-p', `127.0.0.1:${port}:5000`, '-v', volume, imageRef);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await fetch(`http://${registry()}/v2/`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
      if (res !== undefined) {
        assert.equal(res.status, 200, 'GET /v2/ (no users: access control is off)');
        return performance.now() - started;
      }
      const state = (await sandbox.podman('inspect', '--format', '{{.State.Status}}', name)).stdout.trim();
      if (state !== 'running' || Date.now() > deadline) assert.fail(`the container is ${state} and /v2/ does not answer\n${logs()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  before(async () => {
    tools.check();
    work = await tempDir('image');
    upstream = await startTestRegistry();
    sandbox = await containerSandbox(join(work, 'podman'), new URL(upstream.url).host, logs);
    fixture = await writeSingleArchLayout(join(work, 'fixture'), { tag: '1.0', label: 'through-the-image' });
    data = join(work, 'data');
    await mkdir(data);
    // as a docker user does for `-v /srv/berth:/data`: the image runs as uid 10001, not root
    if (asRoot) await chown(data, IMAGE_UID, IMAGE_UID);
  });

  after(async () => {
    await sandbox?.cleanup();
    await upstream?.stop();
    if (work === undefined) return;
    if (!asRoot && sandbox !== undefined) await run('podman', [...sandbox.globals, 'unshare', 'rm', '-rf', data], { env: sandbox.env });
    await rm(work, { recursive: true, force: true });
  });

  it('builds offline and pushes the image into a registry', async (t) => {
    const storage = join(work, 'build');
    await mkdir(join(storage, 'tmp'), { recursive: true });
    await writeFile(join(storage, 'storage.conf'), `[storage]\ndriver = "vfs"\nrunroot = "${storage}/run"\ngraphroot = "${storage}/root"\n`);
    const archive = join(work, 'berth.tar');
    const env = { CONTAINERS_STORAGE_CONF: join(storage, 'storage.conf'), TMPDIR: join(storage, 'tmp') };
    const started = performance.now();
    const built = await runOk(join(REPO_ROOT, 'deploy', 'build-image.sh'), ['--tag', 'localhost/berth:image-test', '--output', `oci-archive:${archive}`], {
      env,
      timeout: 600_000,
    });
    const buildSeconds = (performance.now() - started) / 1000;
    assert.match(built.stdout, /^localhost\/berth:image-test\n[0-9a-f]{64}\n$/);
    await run('buildah', ['rmi', '--all', '--force'], { env });

    const { config } = JSON.parse((await skopeo('inspect', '--config', `oci-archive:${archive}`)).stdout) as ImageConfig;
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(config.User, `${IMAGE_UID}:${IMAGE_UID}`);
    assert.deepEqual(Object.keys(config.ExposedPorts ?? {}), ['5000/tcp']);
    assert.deepEqual(Object.keys(config.Volumes ?? {}), ['/data']);
    assert.ok(config.Env?.includes('REGISTRY_CONFIGURATION_PATH=/etc/berth/config.yml'), `Env: ${config.Env?.join(' ')}`);
    assert.deepEqual([...(config.Entrypoint ?? []), ...(config.Cmd ?? [])], ['/usr/local/bin/node', '/app/bin/berth.js', 'serve']);
    assert.equal(config.StopSignal, 'SIGTERM');
    assert.equal(config.Labels?.['org.opencontainers.image.version'], pkg.version);

    const manifest = JSON.parse((await skopeo('inspect', '--raw', `oci-archive:${archive}`)).stdout) as { layers: { size: number }[] };
    const compressed = manifest.layers.reduce((sum, l) => sum + l.size, 0);
    imageRef = `${new URL(upstream.url).host}/berth/berth:test`;
    await skopeo('copy', '--dest-tls-verify=false', `oci-archive:${archive}`, `docker://${imageRef}`);
    await rm(archive);
    t.diagnostic(`build ${buildSeconds.toFixed(1)} s; ${manifest.layers.length} layers, ${(compressed / 1e6).toFixed(1)} MB compressed (${manifest.layers.map((l) => (l.size / 1e6).toFixed(1)).join(' + ')})`);
  });

  it('runs with the port published, serves pushes and pulls, and keeps them in the volume', async (t) => {
    await sandbox.podman('pull', '--tls-verify=false', imageRef);
    const size = (await sandbox.podman('image', 'inspect', '--format', '{{.Size}}', imageRef)).stdout.trim();
    const ready = await startContainer('berth-a');
    t.diagnostic(`image ${(Number(size) / 1e6).toFixed(1)} MB unpacked; podman run to GET /v2/ answering: ${ready.toFixed(0)} ms`);

    await skopeo('copy', '--dest-tls-verify=false', `oci:${fixture.dir}:1.0`, `docker://${registry()}/team/app:1.0`);
    const pulled = join(work, 'pulled-a');
    await skopeo('copy', '--src-tls-verify=false', `docker://${registry()}/team/app:1.0`, `oci:${pulled}:1.0`);
    const digest = (await skopeo('inspect', '--format', '{{.Digest}}', `oci:${pulled}:1.0`)).stdout.trim();
    assert.equal(digest, fixture.image.manifestDigest);

    const ui = await fetch(`http://${registry()}/`, { headers: { accept: 'text/html' } });
    assert.equal(ui.status, 200, 'the web UI (ui/dist) is in the image');
    assert.match(await ui.text(), /<!doctype html>/i);
    // the addons load with the libraries the image carries (they are optional: present if built here);
    // sha256 resolves OpenSSL's symbols from the image's node
    const probe =
      "const d = '/app/native/build/Release/'; require(d + 'berth_sendfile.node'); require(d + 'berth_aligned.node'); require(d + 'berth_sha256.node').create(); console.log('addons')";
    const addons = await run('podman', [...sandbox.globals, 'exec', container, 'node', '-e', probe], { env: sandbox.env });
    t.diagnostic(addons.code === 0 ? 'the native addons load in the image' : `the native addons do not all load in the image: ${addons.stderr.split('\n')[0]}`);

    const stored = await stat(join(data, 'berth.db'));
    assert.ok(stored.isFile(), 'the meta store is in the volume');
    if (asRoot) assert.equal(stored.uid, IMAGE_UID, 'written by the image user');
    for (const blob of [fixture.image.configDigest, ...fixture.image.layerDigests, fixture.image.manifestDigest]) {
      const hex = blob.slice('sha256:'.length);
      assert.ok((await stat(join(data, 'blobs', 'sha256', hex.slice(0, 2), hex))).isFile(), `${blob} is in the volume`);
    }
  });

  it('stops on SIGTERM with exit code 0', async (t) => {
    const started = performance.now();
    await sandbox.podman('stop', '--time', '30', container);
    const seconds = (performance.now() - started) / 1000;
    const [code, signal] = (await sandbox.podman('inspect', '--format', '{{.State.ExitCode}} {{.Config.StopSignal}}', container)).stdout.trim().split(' ');
    assert.equal(signal, '15', 'the image asks for SIGTERM');
    assert.equal(code, '0', 'berth exits 0 on SIGTERM (137 would mean it was killed)');
    const out = await sandbox.podman('logs', container);
    assert.match(out.stdout + out.stderr, /"signal":"SIGTERM","msg":"shutting down"/);
    assert.ok(seconds < 30, `stopped in ${seconds.toFixed(1)} s`);
    t.diagnostic(`podman stop: ${seconds.toFixed(1)} s`);
    await sandbox.podman('rm', container);
  });

  it('a new container on the same volume serves what the first one stored', async (t) => {
    const ready = await startContainer('berth-b');
    t.diagnostic(`second start (image present): ${ready.toFixed(0)} ms to GET /v2/`);
    const tags = (await (await fetch(`http://${registry()}/v2/team/app/tags/list`)).json()) as { tags: string[] };
    assert.deepEqual(tags.tags, ['1.0']);
    const pulled = join(work, 'pulled-b');
    await skopeo('copy', '--src-tls-verify=false', `docker://${registry()}/team/app:1.0`, `oci:${pulled}:1.0`);
    assert.equal((await skopeo('inspect', '--format', '{{.Digest}}', `oci:${pulled}:1.0`)).stdout.trim(), fixture.image.manifestDigest);

    // the CLI in the running container, as the README has it (argon2's addon hashes the password)
    const password = 'correct horse battery staple';
    await runOk('podman', [...sandbox.globals, 'exec', '-i', container, 'berth', 'user', 'add', 'alice', '--admin', '--password-stdin'], {
      env: sandbox.env,
      input: `${password}\n`,
      context: logs,
    });
    assert.equal((await fetch(`http://${registry()}/v2/`)).status, 401, 'access control is on once a user exists');
    const basic = `Basic ${Buffer.from(`alice:${password}`).toString('base64')}`;
    assert.equal((await fetch(`http://${registry()}/v2/`, { headers: { authorization: basic } })).status, 200);
    await sandbox.podman('stop', '--time', '30', container);
  });

  it("takes the docker-registry tutorials' S3 variables: blobs in the bucket, metadata in the volume", async () => {
    const checked = await sandbox.podman('run', '--rm', ...sandbox.runFlags, '-e', 'SETTINGS_FLAVOR=s3', '-e', 'AWS_BUCKET=tutorial-bucket', '-e', 'AWS_KEY=tutorial-key', '-e', 'AWS_SECRET=tutorial-secret', imageRef, 'config', 'check');
    assert.match(checked.stdout, /^storage:\n {2}s3:\n( {4}.*\n)* {4}bucket: tutorial-bucket\n/m);
    assert.match(checked.stdout, /^meta:\n {2}sqlite:\n {4}path: \/data\/berth\.db$/m);
    assert.doesNotMatch(checked.stdout + checked.stderr, /tutorial-secret/);
  });
});
