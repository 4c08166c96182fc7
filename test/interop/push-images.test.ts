/**
 * `berth push-images`, the tutorials' push_images.sh done properly, against a real Docker Engine
 * (dockerd started here, vfs storage) holding images loaded from archives: each is pushed under its
 * own name, docker pulls it back as the same image, a second push sends nothing, and a name the
 * engine does not have fails before anything is pushed.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeDockerArchive, type BuiltImage } from '../fixtures/oci.ts';
import { dockerdWarnings, startDockerd, stopDockerd, type Daemon } from '../helpers/dockerd.ts';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';
import { REPO_ROOT, requireTools, run, runOk, tempDir } from '../helpers/process.ts';
import type { Pushed } from '../helpers/push-images.ts';

const tools = requireTools('dockerd', 'docker');


describe('berth push-images against a Docker Engine', { skip: tools.skip }, () => {
  let work: string;
  let reg: TestRegistry;
  let daemon: Daemon | undefined;
  let one: BuiltImage;
  let two: BuiltImage;
  let host: string;

  const docker = (...args: string[]) => runOk('docker', args, { env: daemon?.env ?? {}, timeout: 120_000, context: () => dockerdWarnings(work) });
  const pushImages = (...args: string[]) =>
    run(process.execPath, ['bin/berth.js', 'push-images', ...args], { cwd: REPO_ROOT, env: { ...daemon?.env, BERTH_FROM_SOURCE: '1', XDG_CACHE_HOME: path.join(work, 'cache') } });

  before(async () => {
    tools.check();
    work = await tempDir('push-images');
    reg = await startTestRegistry();
    host = reg.url.replace(/^http:\/\//, '');
    daemon = await startDockerd(work, host);
    one = await writeDockerArchive(path.join(work, 'one.tar'), { repoTag: 'hello/one:1.0', label: 'one', dataBytes: 256 * 1024 });
    two = await writeDockerArchive(path.join(work, 'two.tar'), { repoTag: 'two:latest', label: 'two' });
    await docker('load', '-i', path.join(work, 'one.tar'));
    await docker('load', '-i', path.join(work, 'two.tar'));
  });

  after(async () => {
    if (daemon !== undefined) await stopDockerd(daemon, work);
    await reg?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('pushes each image under its own name, and docker pulls the same images back', async () => {
    const r = await pushImages('hello/one:1.0', 'two:latest', '--to', host, '--json');
    assert.equal(r.code, 0, r.stderr);
    const pushed = JSON.parse(r.stdout) as Pushed[];
    assert.deepEqual(pushed.map((p) => p.pushed), [`${host}/hello/one:1.0`, `${host}/two:latest`]);
    assert.ok(pushed.every((p) => p.blobs.copied > 0 && p.bytes > 0));
    await docker('rmi', 'hello/one:1.0', 'two:latest');
    await docker('pull', `${host}/hello/one:1.0`);
    await docker('pull', `${host}/two:latest`);
    // the same image: its id is its config's digest
    assert.equal((await docker('image', 'inspect', '--format', '{{.Id}}', `${host}/hello/one:1.0`)).stdout.trim(), one.configDigest);
    assert.equal((await docker('image', 'inspect', '--format', '{{.Id}}', `${host}/two:latest`)).stdout.trim(), two.configDigest);
  });

  it('sends nothing the second time, and prints progress lines when not on a terminal', async () => {
    const again = await pushImages(`${host}/hello/one:1.0`, '--to', host, '--json');
    assert.equal(again.code, 0, again.stderr);
    const [p] = JSON.parse(again.stdout) as Pushed[];
    assert.equal(p?.pushed, `${host}/hello/one:1.0`, 'the registry host of a local name is not part of the pushed name');
    assert.equal(p?.bytes, 0);
    assert.equal(p?.blobs.copied, 0);
    const plain = await pushImages(`${host}/two:latest`, '--to', host, '--namespace', 'alice');
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, new RegExp(`${host.replace(/[.]/g, '\\.')}/alice/two:latest@sha256:[0-9a-f]{64}`));
    assert.match(plain.stderr, /blob/);
  });

  it('fails before pushing anything when the engine lacks an image', async () => {
    const r = await pushImages(`${host}/two:latest`, 'nope/missing:1', '--to', host, '--namespace', 'bob');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /has no image nope\/missing:1/);
    const tags = await fetch(`${reg.url}/v2/bob/two/tags/list`);
    assert.equal(tags.status, 404, 'nothing was pushed');
  });
});
