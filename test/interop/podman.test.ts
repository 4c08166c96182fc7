/**
 * Interop with podman, on a storage of its own (vfs under temp --root/--runroot) and a
 * temp registries.conf that marks the registry insecure: load an OCI layout, push, rmi,
 * pull back; Docker format push; a multi-arch manifest list pushed with --all and pulled
 * for a foreign architecture.
 */
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MT, writeMultiArchLayout, writeSingleArchLayout, type MultiArchLayout, type SingleArchLayout } from '../fixtures/oci.ts';
import { podmanSandbox } from '../helpers/podman.ts';
import { headManifest, requireTools, runOk, startBerth, tempDir, type BerthProcess, type RunResult } from '../helpers/process.ts';

const tools = requireTools('podman');

interface PodmanImage {
  Id: string;
  Digest: string;
  RepoDigests: string[];
  RepoTags: string[];
  Architecture: string;
  Os: string;
}

describe('podman interop', () => {
  let server: BerthProcess;
  let work: string;
  let single: SingleArchLayout;
  let multi: MultiArchLayout;
  let env: Record<string, string>;
  let globals: string[];

  const logs = (): string => `--- registry logs (${server.url}) ---\n${server.logs().slice(-8000)}`;
  const podman = (...args: string[]): Promise<RunResult> => runOk('podman', [...globals, ...args], { env, context: logs });
  const inspect = async (ref: string): Promise<PodmanImage> => {
    const list = JSON.parse((await podman('image', 'inspect', ref)).stdout) as PodmanImage[];
    const image = list[0];
    assert.ok(image !== undefined, `podman image inspect ${ref} returned nothing`);
    return image;
  };
  const imageIds = async (): Promise<string[]> =>
    (await podman('images', '--quiet', '--no-trunc')).stdout.split('\n').filter((l) => l !== '');

  before(async () => {
    if (tools.skip !== false) return;
    tools.check();
    server = await startBerth();
    work = await tempDir('podman');
    ({ env, globals } = await podmanSandbox(work, server.host));
    single = await writeSingleArchLayout(join(work, 'single'), { tag: 'v1', label: 'podman' });
    multi = await writeMultiArchLayout(join(work, 'multi'), { tag: 'v2', label: 'podman-multi' });
  });

  after(async () => {
    if (globals !== undefined) await podman('rmi', '--all', '--force').catch(() => undefined);
    await server?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('pushes an image loaded from an OCI layout, pulls it back after rmi', { skip: tools.skip }, async () => {
    await podman('pull', `oci:${single.dir}:v1`);
    const id = single.image.configDigest.slice('sha256:'.length);
    assert.ok((await imageIds()).some((i) => i.endsWith(id)), 'the loaded image has the config digest as its ID');

    const ref = `${server.host}/bob/tool:v1`;
    const digestFile = join(work, 'push.digest');
    await podman('tag', id, ref);
    await podman('push', '--tls-verify=false', '--digestfile', digestFile, ref);
    const pushed = (await readFile(digestFile, 'utf8')).trim();
    const head = await headManifest(server, 'bob/tool', 'v1');
    assert.equal(head.status, 200);
    assert.equal(head.digest, pushed, 'the registry serves the digest podman pushed');

    await podman('rmi', '--all', '--force');
    assert.deepEqual(await imageIds(), []);

    await podman('pull', '--tls-verify=false', ref);
    const image = await inspect(ref);
    assert.equal(image.Id, id);
    assert.equal(image.Digest, pushed);
    assert.ok(image.RepoDigests.includes(`${server.host}/bob/tool@${pushed}`), `RepoDigests: ${image.RepoDigests.join(', ')}`);
    assert.ok(image.RepoTags.includes(ref));

    await podman('rmi', '--force', ref);
    await podman('pull', '--tls-verify=false', `${server.host}/bob/tool@${pushed}`);
    assert.equal((await inspect(`${server.host}/bob/tool@${pushed}`)).Id, id);
  });

  it('pushes in Docker schema 2 format with --format docker', { skip: tools.skip }, async () => {
    const ref = `${server.host}/bob/tool:v1-docker`;
    await podman('pull', `oci:${single.dir}:v1`);
    await podman('tag', single.image.configDigest.slice(7), ref);
    const digestFile = join(work, 'docker.digest');
    await podman('push', '--tls-verify=false', '--format', 'docker', '--digestfile', digestFile, ref);
    const head = await headManifest(server, 'bob/tool', 'v1-docker');
    assert.equal(head.mediaType, MT.dockerManifest);
    assert.equal(head.digest, (await readFile(digestFile, 'utf8')).trim());
    await podman('rmi', '--all', '--force');
    await podman('pull', '--tls-verify=false', ref);
    assert.equal((await inspect(ref)).Id, single.image.configDigest.slice(7));
  });

  it('pushes a multi-arch manifest list with --all and pulls each architecture', { skip: tools.skip }, async () => {
    const list = `${server.host}/bob/multi:v2`;
    await podman('manifest', 'create', list);
    await podman('manifest', 'add', '--all', list, `oci:${multi.dir}:v2`);
    const digestFile = join(work, 'list.digest');
    await podman('manifest', 'push', '--all', '--tls-verify=false', '--digestfile', digestFile, list, `docker://${list}`);
    const pushed = (await readFile(digestFile, 'utf8')).trim();
    const head = await headManifest(server, 'bob/multi', 'v2');
    assert.equal(head.digest, pushed);
    assert.ok(head.mediaType === MT.ociIndex || head.mediaType === MT.dockerList, `index media type: ${head.mediaType}`);
    // podman recompresses the layers it stored, so the children get digests of their own
    const res = await fetch(`${server.url}/v2/bob/multi/manifests/v2`, { headers: { accept: `${MT.ociIndex}, ${MT.dockerList}` } });
    const index = (await res.json()) as { manifests: { digest: string; platform: { architecture: string } }[] };
    const childDigest = new Map(index.manifests.map((m) => [m.platform.architecture, m.digest]));
    assert.deepEqual([...childDigest.keys()].sort(), multi.images.map((i) => i.architecture).sort());
    for (const digest of childDigest.values()) {
      assert.equal((await headManifest(server, 'bob/multi', digest)).status, 200, `child ${digest}`);
    }

    await podman('manifest', 'rm', list);
    await podman('rmi', '--all', '--force');
    for (const child of multi.images) {
      await podman('pull', '--tls-verify=false', '--arch', child.architecture, '--os', 'linux', list);
      const image = await inspect(list);
      assert.equal(image.Architecture, child.architecture);
      assert.equal(image.Id, child.configDigest.slice(7));
      assert.equal(image.Digest, pushed);
      assert.ok(image.RepoDigests.includes(`${server.host}/bob/multi@${childDigest.get(child.architecture) ?? ''}`), `RepoDigests: ${image.RepoDigests.join(', ')}`);
      await podman('rmi', '--all', '--force');
    }
  });
});
