/**
 * `berth push-images` reading from podman's Docker-compatible API (`podman system service` on a
 * socket of its own, vfs storage under a temp --root/--runroot) holding images loaded from
 * archives: each is pushed under its own name (podman's `localhost/` prefix dropped), skopeo reads
 * back the config and layers podman reports, a second push sends nothing, and a name podman does
 * not have fails before anything is pushed.
 */
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeDockerArchive, type BuiltImage } from '../fixtures/oci.ts';
import { podmanSandbox, type PodmanSandbox } from '../helpers/podman.ts';
import { startPodmanService, type PodmanService } from '../helpers/podman-service.ts';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';
import { REPO_ROOT, requireTools, run, runOk, tempDir } from '../helpers/process.ts';
import type { Pushed } from '../helpers/push-images.ts';

const tools = requireTools('podman', 'skopeo');


interface Manifest {
  config: { digest: string };
  layers: { digest: string }[];
}

describe('berth push-images against podman system service', { skip: tools.skip }, () => {
  let work: string | undefined;
  let reg: TestRegistry | undefined;
  let sandbox: PodmanSandbox | undefined;
  let service: PodmanService | undefined;
  let one: BuiltImage;
  let two: BuiltImage;
  let host: string;

  const podman = (...args: string[]) => runOk('podman', [...(sandbox?.globals ?? []), ...args], { env: sandbox?.env ?? {} });
  const pushImages = (...args: string[]) =>
    run(process.execPath, ['bin/berth.js', 'push-images', ...args], {
      cwd: REPO_ROOT,
      env: { DOCKER_HOST: service?.dockerHost, BERTH_FROM_SOURCE: '1', XDG_CACHE_HOME: path.join(work ?? '', 'cache') },
    });

  /** What podman says of `name`: its id (the config's digest) and its layers' diff_ids. */
  const podmanImage = async (name: string): Promise<{ id: string; layers: string[] }> => {
    const [image] = JSON.parse((await podman('image', 'inspect', name)).stdout) as { Id: string; RootFS: { Layers: string[] } }[];
    assert.ok(image !== undefined, `podman has no ${name}`);
    return { id: `sha256:${image.Id}`, layers: image.RootFS.Layers };
  };

  /** The image at `ref` of the registry, copied by skopeo (which checks every digest) into a dir: its manifest's digest, manifest and config. */
  const pullBack = async (ref: string, dir: string): Promise<{ digest: string; manifest: Manifest; diffIds: string[] }> => {
    await runOk('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `dir:${dir}`]);
    const digest = (await runOk('skopeo', ['manifest-digest', path.join(dir, 'manifest.json')])).stdout.trim();
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    const config = JSON.parse(await readFile(path.join(dir, manifest.config.digest.slice('sha256:'.length)), 'utf8')) as { rootfs: { diff_ids: string[] } };
    return { digest, manifest, diffIds: config.rootfs.diff_ids };
  };

  before(async () => {
    tools.check();
    work = await tempDir('push-images-podman');
    reg = await startTestRegistry();
    host = reg.url.replace(/^http:\/\//, '');
    sandbox = await podmanSandbox(work, host);
    one = await writeDockerArchive(path.join(work, 'one.tar'), { repoTag: 'hello/one:1.0', label: 'podman-one', dataBytes: 256 * 1024 });
    two = await writeDockerArchive(path.join(work, 'two.tar'), { repoTag: 'two:latest', label: 'podman-two' });
    await podman('load', '-q', '-i', path.join(work, 'one.tar'));
    await podman('load', '-q', '-i', path.join(work, 'two.tar'));
    service = await startPodmanService(work, sandbox);
  });

  after(async () => {
    await service?.stop();
    if (sandbox !== undefined) await run('podman', [...sandbox.globals, 'rmi', '--all', '--force'], { env: sandbox.env });
    await reg?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('pushes each image under its own name, and skopeo pulls back the config and layers podman reports', async () => {
    const r = await pushImages('hello/one:1.0', 'localhost/two:latest', '--to', host, '--json');
    assert.equal(r.code, 0, `${r.stderr}\n${await service?.log()}`);
    const pushed = JSON.parse(r.stdout) as Pushed[];
    assert.deepEqual(pushed.map((p) => p.pushed), [`${host}/hello/one:1.0`, `${host}/two:latest`]);
    assert.deepEqual(pushed[0]?.blobs, { copied: 3, skipped: 0, mounted: 0 });
    // podman's export names its layers by digest: the base layer the first image pushed is mounted, not sent again
    assert.deepEqual(pushed[1]?.blobs, { copied: 2, skipped: 0, mounted: 1 });
    for (const [i, [name, built]] of ([['hello/one:1.0', one], ['two:latest', two]] as const).entries()) {
      const held = await podmanImage(name);
      assert.deepEqual(held, { id: built.configDigest, layers: built.diffIds }, 'podman holds the fixture');
      const back = await pullBack(`${host}/${name}`, path.join(work ?? '', `back-${i}`));
      assert.equal(back.digest, pushed[i]?.digest);
      assert.equal(back.manifest.config.digest, held.id);
      assert.deepEqual(back.diffIds, held.layers);
      // pushed as podman exports them, uncompressed: each layer's digest is its diff_id
      assert.deepEqual(back.manifest.layers.map((l) => l.digest), held.layers);
    }
  });

  it('sends nothing the second time', async () => {
    const again = await pushImages('localhost/hello/one:1.0', '--to', host, '--json');
    assert.equal(again.code, 0, again.stderr);
    const [p] = JSON.parse(again.stdout) as Pushed[];
    assert.equal(p?.pushed, `${host}/hello/one:1.0`, "podman's localhost/ is not part of the pushed name");
    assert.equal(p?.bytes, 0);
    assert.deepEqual(p?.blobs, { copied: 0, skipped: 3, mounted: 0 });
  });

  it('fails before pushing anything when podman lacks an image', async () => {
    const r = await pushImages('two:latest', 'nope/missing:1', '--to', host, '--namespace', 'bob');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /has no image nope\/missing:1/);
    const tags = await fetch(`${reg?.url}/v2/bob/two/tags/list`);
    assert.equal(tags.status, 404, 'nothing was pushed');
  });
});
