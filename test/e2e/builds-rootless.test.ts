/**
 * Automated builds as docs/builds.md advises where rule authors are not trusted: berth run as an
 * unprivileged user, so that buildah runs rootless, in a user namespace mapped to that user's
 * subordinate ids. The user `berth-rootless` (with /etc/subuid and /etc/subgid ranges) is made by
 * .ci/run; the test skips without it, and fails under CI=true.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IN_CI, REPO_ROOT, requireTools, runOk, startBerth, tempDir, type BerthProcess } from '../helpers/process.ts';
import { API, api, baseRootfs, finished, type BuildView } from '../helpers/builds.ts';
import { repoWith } from '../helpers/git-repos.ts';

const USER = 'berth-rootless';
const tools = requireTools('buildah', 'git', 'tar', 'setpriv', 'newuidmap');

/** The user's uid, when the machine has the user and subordinate ids for it. */
function rootlessUser(): { uid: number; gid: number } | string {
  if (process.getuid?.() !== 0) return 'the tests do not run as root (they start berth as another user)';
  let ids: string;
  try {
    ids = execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim() + ' ' + execFileSync('id', ['-g', USER], { encoding: 'utf8' }).trim();
  } catch {
    return `no user ${USER} (.ci/run makes it)`;
  }
  const [uid, gid] = ids.split(' ').map(Number) as [number, number];
  try {
    execFileSync('setpriv', ['--reuid', USER, '--regid', USER, '--init-groups', 'test', '-r', path.join(REPO_ROOT, 'node_modules', 'tsx', 'package.json')]);
  } catch {
    return `${USER} cannot read this checkout (${REPO_ROOT}): its directories must be readable by others`;
  }
  return { uid, gid };
}

const who = rootlessUser();
const skip = tools.skip !== false ? tools.skip : typeof who === 'string' && !IN_CI ? who : false;
if (typeof who === 'string' && !IN_CI) console.log(`# skipping: ${who}`);

describe('automated builds with berth run as an unprivileged user (rootless buildah)', { skip }, () => {
  let work: string;
  let server: BerthProcess;

  before(async () => {
    tools.check();
    if (typeof who === 'string') throw new Error(`${who} (required under CI=true)`);
    work = await tempDir('builds-rootless');
    await repoWith(path.join(work, 'base'), { Dockerfile: 'FROM scratch\nCOPY rootfs/ /\n', ...(await baseRootfs()) });
    // The RUN step writes the user namespace it runs in: as root, the whole id space maps to itself.
    await repoWith(path.join(work, 'app'), { Dockerfile: 'FROM alice/base\nRUN cat /proc/self/uid_map > /uid_map\n' });
    await fs.mkdir(path.join(work, 'root'));
    await runOk('chown', ['-R', `${who.uid}:${who.gid}`, work]);
    await fs.chmod(work, 0o755);
    server = await startBerth({
      user: USER,
      root: path.join(work, 'root'),
      env: { HOME: path.join(work, 'root'), REGISTRY_BUILDS_ENABLED: 'true', REGISTRY_BUILDS_WORKDIR: path.join(work, 'root', 'builds') },
    });
  });

  after(async () => {
    await server?.stop();
    if (work !== undefined) await fs.rm(work, { recursive: true, force: true });
  });

  it('builds FROM an image in berth with a RUN step, in a user namespace of the unprivileged user', async () => {
    assert.ok(typeof who !== 'string');
    for (const [repo, dir] of [['alice/base', 'base'], ['alice/app', 'app']] as const) {
      await api(server, 'POST', `${API(repo)}/_builds/rules`, { gitUrl: `file://${path.join(work, dir)}`, source: 'main' }).then(async (r) => assert.equal(r.status, 201, await r.text()));
      const [queued] = (await (await api(server, 'POST', `${API(repo)}/_builds`, {})).json()) as BuildView[];
      const { build, log } = await finished(server, repo, queued?.id ?? 0);
      assert.equal(build.status, 'succeeded', log);
    }
    const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';
    const manifest = (await (await fetch(`${server.url}/v2/alice/app/manifests/latest`, { headers: { accept } })).json()) as { layers: { digest: string }[] };
    const top = manifest.layers.at(-1);
    assert.ok(top);
    const into = path.join(work, 'unpacked');
    await fs.mkdir(into);
    await fs.writeFile(path.join(work, 'top.tar'), Buffer.from(await (await fetch(`${server.url}/v2/alice/app/blobs/${top.digest}`)).arrayBuffer()));
    await runOk('tar', ['-xf', path.join(work, 'top.tar')], { cwd: into });
    const map = (await fs.readFile(path.join(into, 'uid_map'), 'utf8')).trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
    // inside: root is the unprivileged user outside, the rest its subordinate ids; never the host's root
    assert.deepEqual(map[0], [0, who.uid, 1], JSON.stringify(map));
    assert.ok(map.every(([, outside]) => outside !== 0), JSON.stringify(map));
    // and the build's files on this machine belong to that user
    const { uid } = await fs.stat(path.join(work, 'root', 'builds'));
    assert.equal(uid, who.uid);
  });
});
