/**
 * Automated builds as docs/builds.md advises where rule authors are not trusted: berth as root
 * with `builds.user`, so that git and buildah run as that account (rootless buildah in a user
 * namespace of its subordinate ids) in a PID namespace of their own, and a RUN step is never the
 * machine's root nor berth's own user; and berth itself run as an unprivileged user. The user
 * `berth-rootless` (with /etc/subuid and /etc/subgid ranges) is made by .ci/run; the tests skip
 * without it, and fail under CI=true.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IN_CI, REPO_ROOT, requireTools, run, runOk, startBerth, tempDir, type BerthProcess } from '../helpers/process.ts';
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

/** The uid map a RUN step saw, from the top layer of alice/app:latest. */
async function runStepUidMap(server: BerthProcess, work: string): Promise<number[][]> {
  const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';
  const manifest = (await (await fetch(`${server.url}/v2/alice/app/manifests/latest`, { headers: { accept } })).json()) as { layers: { digest: string }[] };
  const top = manifest.layers.at(-1);
  assert.ok(top);
  const into = await fs.mkdtemp(path.join(work, 'unpacked-'));
  await fs.writeFile(path.join(into, 'top.tar'), Buffer.from(await (await fetch(`${server.url}/v2/alice/app/blobs/${top.digest}`)).arrayBuffer()));
  await runOk('tar', ['-xf', 'top.tar'], { cwd: into });
  return (await fs.readFile(path.join(into, 'uid_map'), 'utf8')).trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
}

/** Build alice/base (a root filesystem) and alice/app (FROM it, RUN steps) from the repositories under `work`. */
async function buildBoth(server: BerthProcess, work: string): Promise<void> {
  for (const [repo, dir] of [['alice/base', 'base'], ['alice/app', 'app']] as const) {
    await api(server, 'POST', `${API(repo)}/_builds/rules`, { gitUrl: `file://${path.join(work, dir)}`, source: 'main' }).then(async (r) => assert.equal(r.status, 201, await r.text()));
    const [queued] = (await (await api(server, 'POST', `${API(repo)}/_builds`, {})).json()) as BuildView[];
    const { build, log } = await finished(server, repo, queued?.id ?? 0);
    assert.equal(build.status, 'succeeded', log);
  }
}

/** The two repositories, readable by the build's account. */
async function sources(work: string): Promise<void> {
  await repoWith(path.join(work, 'base'), { Dockerfile: 'FROM scratch\nCOPY rootfs/ /\n', ...(await baseRootfs()) });
  // The RUN step writes the user namespace it runs in (as root, the whole id space maps to itself),
  // and leaves a process behind outside its process group.
  await repoWith(path.join(work, 'app'), { Dockerfile: 'FROM alice/base\nRUN cat /proc/self/uid_map > /uid_map && (setsid sleep 3197 >/dev/null 2>&1 </dev/null &)\n' });
  await fs.chmod(work, 0o755);
}

/** Whether `user` may read `file`. */
function readableBy(user: string, file: string): boolean {
  try {
    execFileSync('setpriv', ['--reuid', user, '--regid', user, '--init-groups', 'test', '-r', file]);
    return true;
  } catch {
    return false;
  }
}

describe('automated builds as builds.user, berth running as root', { skip }, () => {
  let work: string;
  let server: BerthProcess;

  before(async () => {
    tools.check();
    if (typeof who === 'string') throw new Error(`${who} (required under CI=true)`);
    work = await tempDir('builds-user');
    await sources(work);
    server = await startBerth({ env: { REGISTRY_BUILDS_ENABLED: 'true', REGISTRY_BUILDS_USER: USER, REGISTRY_BUILDS_WORKDIR: path.join(work, 'builds') } });
  });

  after(async () => {
    await server?.stop();
    if (work !== undefined) await fs.rm(work, { recursive: true, force: true });
  });

  it("runs RUN steps as that account's ids, never root's, ended with the build, and unable to read berth's data", async () => {
    assert.ok(typeof who !== 'string');
    await buildBoth(server, work);
    const map = await runStepUidMap(server, work);
    assert.deepEqual(map[0], [0, who.uid, 1], JSON.stringify(map));
    assert.ok(map.every(([, outside]) => outside !== 0), JSON.stringify(map));
    // the process the RUN step left outside its group ended with the build (its PID namespace)
    assert.equal(spawnSync('pgrep', ['-a', '-f', 'sleep 3197'], { encoding: 'utf8' }).stdout.trim(), '');
    // berth's storage root (its database, keys and blobs) is root's alone: a RUN step out of its chroot cannot read it
    const keys = (await fs.readdir(server.root, { recursive: true })).map((f) => path.join(server.root, String(f)));
    assert.ok(keys.length > 0);
    assert.deepEqual(keys.filter((f) => readableBy(USER, f)), []);
  });
});

describe('automated builds with berth run as an unprivileged user (rootless buildah)', { skip }, () => {
  let work: string;
  let server: BerthProcess;

  before(async () => {
    tools.check();
    if (typeof who === 'string') throw new Error(`${who} (required under CI=true)`);
    work = await tempDir('builds-rootless');
    await sources(work);
    await fs.mkdir(path.join(work, 'root'));
    await runOk('chown', ['-R', `${who.uid}:${who.gid}`, work]);
    server = await startBerth({
      user: USER,
      root: path.join(work, 'root'),
      env: { HOME: path.join(work, 'root'), REGISTRY_BUILDS_ENABLED: 'true', REGISTRY_BUILDS_WORKDIR: path.join(work, 'root', 'builds') },
    });
  });

  after(async () => {
    await server?.stop();
    if (work !== undefined) await fs.rm(work, { recursive: true, force: true });
    await runOk('pkill', ['-u', USER, '-f', 'sleep 3197']).catch(() => undefined);
  });

  it('builds FROM an image in berth with a RUN step, in a user namespace of the unprivileged user', async () => {
    assert.ok(typeof who !== 'string');
    await buildBoth(server, work);
    const map = await runStepUidMap(server, work);
    // inside: root is the unprivileged user outside, the rest its subordinate ids; never the host's root
    assert.deepEqual(map[0], [0, who.uid, 1], JSON.stringify(map));
    assert.ok(map.every(([, outside]) => outside !== 0), JSON.stringify(map));
    // and the build's files on this machine belong to that user
    const { uid } = await fs.stat(path.join(work, 'root', 'builds'));
    assert.equal(uid, who.uid);
  });

  it('refuses to start with builds.user when it is not root', async () => {
    const r = await run('setpriv', ['--reuid', USER, '--regid', USER, '--init-groups', '--', process.execPath, 'bin/berth.js', 'serve'], {
      cwd: REPO_ROOT,
      timeout: 30_000,
      env: {
        BERTH_FROM_SOURCE: '1',
        HOME: path.join(work, 'root'),
        REGISTRY_HTTP_ADDR: '127.0.0.1:0',
        REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: path.join(work, 'root', 'other'),
        REGISTRY_BUILDS_ENABLED: 'true',
        REGISTRY_BUILDS_USER: 'nobody',
        REGISTRY_BUILDS_WORKDIR: path.join(work, 'root', 'builds'),
      },
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /builds\.user: berth must run as root to run builds as another user/);
  });
});
