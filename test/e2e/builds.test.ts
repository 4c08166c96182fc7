/**
 * Automated builds end to end: Git repositories made here (served over file:// and by git daemon
 * on loopback), rules through the API, builds by hand and by a signed GitHub webhook, built by
 * Debian's buildah and pushed into the same berth, then read back from the registry and unpacked.
 * The base image with a shell is itself built by berth from files of this machine (no internet).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, REPO_ROOT, requireTools, run, runOk, startBerth, tempDir, type BerthProcess } from '../helpers/process.ts';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';
import { TestReceiver } from '../../src/events/test-receiver.ts';
import { startGitHttp, type GitHttpServer } from '../helpers/git-http.ts';
import { API, api, baseRootfs, finished, type BuildView } from '../helpers/builds.ts';
import { commit, git, repoWith } from '../helpers/git-repos.ts';

const tools = requireTools('buildah', 'git', 'tar');

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return JSON.parse(text) as T;
}

/** Read a running build's live log until `text` appears in it (the build has reached that step). */
async function untilLogShows(reg: { url: string }, repo: string, id: number, text: string): Promise<void> {
  const res = await fetch(`${reg.url}${API(repo)}/_builds/${id}/log`, { headers: { accept: 'text/event-stream' } });
  const reader = res.body?.getReader();
  assert.ok(reader);
  let seen = '';
  while (!seen.includes(text)) {
    const chunk: ReadableStreamReadResult<Uint8Array> = await reader.read();
    assert.equal(chunk.done, false, seen);
    seen += new TextDecoder().decode(chunk.value);
  }
  await reader.cancel();
}

/** The processes of this machine whose command line contains `marker`. */
async function processesWith(marker: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.replaceAll('\0', ' ').includes(marker)) found.push(`${pid}: ${cmdline.replaceAll('\0', ' ').slice(0, 200)}`);
  }
  return found;
}

/** The processes running `marker` once `done` holds of them, or when `ms` have passed (the OS tells no one: it is looked at every 50 ms). */
async function processesAfter(ms: number, done: (found: string[]) => boolean, marker = 'sleep 3171'): Promise<string[]> {
  const deadline = Date.now() + ms;
  let found = await processesWith(marker);
  while (!done(found) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    found = await processesWith(marker);
  }
  return found;
}

/** The files of an image's top layer, unpacked. */
async function topLayer(reg: TestRegistry, repo: string, tag: string, into: string): Promise<string> {
  const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';
  const manifest = (await (await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, { headers: { accept } })).json()) as { layers: { digest: string }[] };
  const top = manifest.layers.at(-1);
  assert.ok(top);
  const blob = Buffer.from(await (await fetch(`${reg.url}/v2/${repo}/blobs/${top.digest}`)).arrayBuffer());
  await fs.mkdir(into, { recursive: true });
  await fs.writeFile(path.join(into, 'layer.tar'), blob);
  await runOk('tar', ['-xf', 'layer.tar'], { cwd: into });
  return into;
}

describe('automated builds', { skip: tools.skip }, () => {
  let work: string;
  let reg: TestRegistry;
  let daemon: ChildProcess | undefined;
  let daemonPort: number;
  let receiver: TestReceiver;
  let gitHttp: GitHttpServer;

  before(async () => {
    tools.check();
    work = await tempDir('builds');
    await repoWith(path.join(work, 'git', 'base'), { Dockerfile: 'FROM scratch\nCOPY rootfs/ /\n', ...(await baseRootfs()) });
    await repoWith(path.join(work, 'git', 'app'), {
      Dockerfile: 'FROM alice/base\nARG GREETING=hello\nCOPY app.txt /app.txt\nRUN cat /app.txt > /copied.txt && echo "$GREETING built" > /stamp\n',
      'app.txt': 'version one\n',
    });
    daemonPort = await freePort();
    daemon = spawn('git', ['daemon', '--reuseaddr', '--export-all', `--base-path=${path.join(work, 'git')}`, '--listen=127.0.0.1', `--port=${daemonPort}`, path.join(work, 'git')], { stdio: 'ignore' });
    receiver = await TestReceiver.start();
    gitHttp = await startGitHttp(path.join(work, 'git'), 'tok-3f9a1c');
    reg = await startTestRegistry({
      config: {
        // polling is driven by the tests (pollOnce), not by the timer
        builds: { enabled: true, workdir: path.join(work, 'builds'), timeout: '8s', concurrency: 1, pollinterval: '1h' },
        notifications: { endpoints: [{ name: 'hook', url: receiver.url, backoff: '10ms', ignore: { actions: ['pull'] } }] },
      },
    });
  });

  after(async () => {
    daemon?.kill();
    await reg?.stop();
    await receiver?.down();
    await gitHttp?.stop();
    if (work !== undefined) await fs.rm(work, { recursive: true, force: true });
  });

  it('builds a branch by hand from file://, pushes it into the repository, and search shows the repository automated', async () => {
    const rule = await json<{ id: string; hookUrl: string; hookSecret: string }>(
      await api(reg, 'POST', `${API('alice/base')}/_builds/rules`, { gitUrl: `file://${path.join(work, 'git', 'base')}`, source: 'main', tag: 'latest' }),
      201,
    );
    assert.match(rule.hookSecret, /^[A-Za-z0-9_-]{43}$/);
    const rules = await json<Record<string, unknown>[]>(await api(reg, 'GET', `${API('alice/base')}/_builds/rules`), 200);
    assert.equal(rules.length, 1);
    assert.equal(rules[0]?.['hookSecret'], undefined, 'the secret is shown once, when the rule is made');
    const [queued] = await json<BuildView[]>(await api(reg, 'POST', `${API('alice/base')}/_builds`, {}), 202);
    assert.ok(queued);
    const { build, log } = await finished(reg, 'alice/base', queued.id);
    assert.equal(build.status, 'succeeded', log);
    assert.equal(build.commit, await git(path.join(work, 'git', 'base'), 'rev-parse', 'HEAD'));
    const head = await fetch(`${reg.url}/v2/alice/base/manifests/latest`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(head.headers.get('docker-content-digest'), build.digest);
    const search = (await (await fetch(`${reg.url}/v1/search?q=base`)).json()) as { results: { name: string; is_automated: boolean }[] };
    assert.deepEqual(search.results.map((r) => [r.name, r.is_automated]), [['alice/base', true]]);
    const badge = await fetch(`${reg.url}${API('alice/base')}/builds/badge.svg`);
    assert.match(await badge.text(), /build: passing/);
    await receiver.waitFor('a build.completed event', () => receiver.accepted.some((e) => e.action === 'build.completed'));
    const event = receiver.accepted.find((e) => e.action === 'build.completed');
    assert.equal(event?.target.repository, 'alice/base');
    assert.equal(event?.target.digest, build.digest);
    assert.equal(event?.target.tag, 'latest');
    assert.equal(event?.target.build?.status, 'succeeded');
    assert.equal(event?.target.build?.commit, build.commit);
  });

  it('builds each new commit a signed GitHub push names, over git daemon, FROM an image in berth with RUN steps', async () => {
    const dir = path.join(work, 'git', 'app');
    const rule = await json<{ id: string; hookUrl: string; hookSecret: string }>(
      await api(reg, 'POST', `${API('alice/app')}/_builds/rules`, { gitUrl: `git://127.0.0.1:${daemonPort}/app`, source: 'main', tag: 'latest', buildArgs: { GREETING: 'hi' } }),
      201,
    );
    const head = await commit(dir, { 'app.txt': 'version two\n' }, 'second');
    const body = Buffer.from(JSON.stringify({ ref: 'refs/heads/main', before: '0'.repeat(40), after: head, repository: { clone_url: 'x' } }));
    const sign = (secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    const hook = new URL(rule.hookUrl).pathname;
    const forged = await fetch(reg.url + hook, { method: 'POST', headers: { 'x-github-event': 'push', 'content-type': 'application/json', 'x-hub-signature-256': sign('guessed') }, body });
    assert.equal(forged.status, 401);
    assert.deepEqual(await json<BuildView[]>(await api(reg, 'GET', `${API('alice/app')}/_builds`), 200), [], 'a forged delivery builds nothing');
    const delivered = await json<{ builds: { id: number }[] }>(
      await fetch(reg.url + hook, { method: 'POST', headers: { 'x-github-event': 'push', 'content-type': 'application/json', 'x-hub-signature-256': sign(rule.hookSecret) }, body }),
      202,
    );
    const id = delivered.builds[0]?.id;
    assert.ok(id !== undefined);
    const { build, log } = await finished(reg, 'alice/app', id);
    assert.equal(build.status, 'succeeded', log);
    assert.equal(build.commit, head);
    const files = await topLayer(reg, 'alice/app', 'latest', path.join(work, 'unpacked-app'));
    assert.equal(await fs.readFile(path.join(files, 'copied.txt'), 'utf8'), 'version two\n');
    assert.equal(await fs.readFile(path.join(files, 'stamp'), 'utf8'), 'hi built\n');
    const replayed = await json<{ builds: { id: number; status: string }[] }>(
      await fetch(reg.url + hook, { method: 'POST', headers: { 'x-github-event': 'push', 'content-type': 'application/json', 'x-hub-signature-256': sign(rule.hookSecret) }, body }),
      202,
    );
    assert.deepEqual(replayed.builds, [{ id, ref: 'main', tag: 'latest', status: 'succeeded' }], 'the same delivery again (or replayed) builds nothing more');
  });

  it('keeps build arguments from a RUN step that reads every process of the machine', async () => {
    const dir = path.join(work, 'git', 'snoop');
    // Not declared with ARG: the RUN step does not get it; it could only find it in buildah's command line or environment.
    await repoWith(dir, { Dockerfile: 'FROM alice/base\nRUN for f in /proc/[0-9]*/cmdline /proc/[0-9]*/environ; do cat "$f"; echo; done > /seen 2>/dev/null; true\n' });
    await json(await api(reg, 'POST', `${API('alice/snoop')}/_builds/rules`, { gitUrl: `file://${dir}`, source: 'main', buildArgs: { SNOOPED: 'leakmark-7f3e' } }), 201);
    const [queued] = await json<BuildView[]>(await api(reg, 'POST', `${API('alice/snoop')}/_builds`, {}), 202);
    const { build, log } = await finished(reg, 'alice/snoop', queued?.id ?? 0);
    assert.equal(build.status, 'succeeded', log);
    const seen = await fs.readFile(path.join(await topLayer(reg, 'alice/snoop', 'latest', path.join(work, 'unpacked-snoop')), 'seen'), 'latin1');
    assert.match(seen, /buildah/, 'the step saw the processes of the machine, buildah among them');
    assert.ok(!seen.includes('leakmark-7f3e'), 'but not the build argument');
  });

  it('ends with the build every process its RUN steps started, also one that left their process group', async () => {
    const dir = path.join(work, 'git', 'escape');
    await repoWith(dir, { Dockerfile: 'FROM alice/base\nRUN setsid sleep 3193 >/dev/null 2>&1 </dev/null & echo left behind\n' });
    await json(await api(reg, 'POST', `${API('alice/escape')}/_builds/rules`, { gitUrl: `file://${dir}`, source: 'main' }), 201);
    const [queued] = await json<BuildView[]>(await api(reg, 'POST', `${API('alice/escape')}/_builds`, {}), 202);
    const { build, log } = await finished(reg, 'alice/escape', queued?.id ?? 0);
    assert.equal(build.status, 'succeeded', log);
    assert.match(log, /left behind/);
    // Its own PID namespace (berth runs as root here): the kernel ended it with buildah.
    assert.deepEqual(await processesAfter(5_000, (p) => p.length === 0, 'sleep 3193'), []);
  });

  it('maps a tag v1.2 to the image tag 1.2 with a regular expression rule', async () => {
    const dir = path.join(work, 'git', 'app');
    await git(dir, 'tag', 'v1.2');
    await json(await api(reg, 'POST', `${API('alice/app')}/_builds/rules`, { gitUrl: `file://${dir}`, sourceType: 'tag', source: '/^v([0-9.]+)$/', tag: '{1}' }), 201);
    const queued = await json<BuildView[]>(await api(reg, 'POST', `${API('alice/app')}/_builds`, { ref: 'refs/tags/v1.2' }), 202);
    assert.deepEqual(queued.map((b) => b.tag), ['1.2']);
    const { build } = await finished(reg, 'alice/app', queued[0]?.id ?? 0);
    assert.equal(build.status, 'succeeded');
    const head = await fetch(`${reg.url}/v2/alice/app/manifests/1.2`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(head.status, 200);
  });

  it('ends a failing Dockerfile as failed with its log, and stops a build past builds.timeout', async () => {
    const dir = path.join(work, 'git', 'broken');
    await repoWith(dir, { Dockerfile: 'FROM alice/base\nRUN echo about to fail && exit 3\n' });
    await git(dir, 'checkout', '-q', '-b', 'slow');
    await commit(dir, { Dockerfile: 'FROM alice/base\nRUN sleep 60\n' }, 'slow');
    await json(await api(reg, 'POST', `${API('alice/broken')}/_builds/rules`, { gitUrl: `file://${dir}`, source: 'main' }), 201);
    await json(await api(reg, 'POST', `${API('alice/broken')}/_builds/rules`, { gitUrl: `file://${dir}`, source: 'slow', tag: 'slow' }), 201);
    const [failing, slow] = await json<BuildView[]>(await api(reg, 'POST', `${API('alice/broken')}/_builds`, {}), 202);
    assert.ok(failing && slow);
    const first = await finished(reg, 'alice/broken', failing.id);
    assert.equal(first.build.status, 'failed');
    assert.match(first.log, /about to fail/);
    assert.match(first.build.error ?? '', /buildah build failed/);
    const second = await finished(reg, 'alice/broken', slow.id);
    assert.equal(second.build.status, 'failed');
    assert.match(second.build.error ?? '', /timed out after 8 s/);
    // one at a time (builds.concurrency 1), oldest first
    assert.ok(Date.parse(second.build.started ?? '') >= Date.parse(first.build.finished ?? ''));
    const text = await (await fetch(`${reg.url}${API('alice/broken')}/_builds/${failing.id}/log`)).text();
    assert.match(text, /about to fail/);
    assert.deepEqual(await fs.readdir(path.join(work, 'builds')).then((d) => d.filter((n) => !n.startsWith('ls-'))), [], 'work directories are removed');
  });

  it('fetches a private remote with its token, which appears in no answer or log, and fails without it', async () => {
    const withToken = await json<{ id: string; credential: string }>(
      await api(reg, 'POST', `${API('alice/private')}/_builds/rules`, { gitUrl: `${gitHttp.url}/base`, source: 'main', credential: { kind: 'token', secret: 'tok-3f9a1c' } }),
      201,
    );
    assert.equal(withToken.credential, 'token');
    const [built] = await json<BuildView[]>(await api(reg, 'POST', `${API('alice/private')}/_builds`, { rule: withToken.id }), 202);
    const ok = await finished(reg, 'alice/private', built?.id ?? 0);
    assert.equal(ok.build.status, 'succeeded', ok.log);
    assert.ok(gitHttp.authorizations.some((a) => a === `Basic ${Buffer.from('x-access-token:tok-3f9a1c').toString('base64')}`), 'the token went to the remote');
    const rules = await (await api(reg, 'GET', `${API('alice/private')}/_builds/rules`)).text();
    assert.ok(!rules.includes('tok-3f9a1c') && !ok.log.includes('tok-3f9a1c'));
    const without = await json<{ id: string }>(await api(reg, 'POST', `${API('alice/private')}/_builds/rules`, { gitUrl: `${gitHttp.url}/base`, source: 'main', tag: 'nope' }), 201);
    const [refused] = await json<BuildView[]>(await api(reg, 'POST', `${API('alice/private')}/_builds`, { rule: without.id }), 202);
    const failed = await finished(reg, 'alice/private', refused?.id ?? 0);
    assert.equal(failed.build.status, 'failed');
    assert.match(failed.build.error ?? '', /git fetch failed/);
  });

  it('stops a running build at once when it is cancelled', async () => {
    const [slow] = await json<BuildView[]>(await api(reg, 'POST', `${API('alice/broken')}/_builds`, { ref: 'slow' }), 202);
    assert.ok(slow);
    // running: its log has reached the RUN step
    const res = await fetch(`${reg.url}${API('alice/broken')}/_builds/${slow.id}/log`, { headers: { accept: 'text/event-stream' } });
    const reader = res.body?.getReader();
    assert.ok(reader);
    let seen = '';
    while (!seen.includes('RUN sleep 60')) {
      const chunk: ReadableStreamReadResult<Uint8Array> = await reader.read();
      assert.equal(chunk.done, false, seen);
      seen += new TextDecoder().decode(chunk.value);
    }
    const asked = Date.now();
    const cancelling = await json<BuildView>(await api(reg, 'DELETE', `${API('alice/broken')}/_builds/${slow.id}`), 202);
    assert.equal(cancelling.status, 'running');
    let rest = '';
    for (;;) {
      const chunk: ReadableStreamReadResult<Uint8Array> = await reader.read();
      if (chunk.done) break;
      rest += new TextDecoder().decode(chunk.value);
    }
    assert.match(rest, /"status":"cancelled"/);
    assert.ok(Date.now() - asked < 5000, 'stopped within the kill grace, not at the next lease renewal');
  });

  it('builds what a polling rule sees move on its remote, and nothing on its first look', async () => {
    const dir = path.join(work, 'git', 'polled');
    await repoWith(dir, { Dockerfile: 'FROM scratch\nCOPY f.txt /f.txt\n', 'f.txt': 'one\n' });
    await json(await api(reg, 'POST', `${API('alice/polled')}/_builds/rules`, { gitUrl: `file://${dir}`, source: 'main', poll: true }), 201);
    const builds = reg.running.builds;
    assert.ok(builds);
    await builds.pollOnce();
    assert.deepEqual(await json<BuildView[]>(await api(reg, 'GET', `${API('alice/polled')}/_builds`), 200), [], 'the first look records, builds nothing');
    await builds.pollOnce();
    assert.deepEqual(await json<BuildView[]>(await api(reg, 'GET', `${API('alice/polled')}/_builds`), 200), [], 'nothing moved');
    const head = await commit(dir, { 'f.txt': 'two\n' }, 'two');
    await builds.pollOnce();
    const queued = await json<BuildView[]>(await api(reg, 'GET', `${API('alice/polled')}/_builds`), 200);
    assert.equal(queued.length, 1);
    const { build } = await finished(reg, 'alice/polled', queued[0]?.id ?? 0);
    assert.equal(build.status, 'succeeded');
    assert.equal(build.commit, head);
  });

  it('refuses a rule that cannot work, and answers 404 for what is not there', async () => {
    const bad = await api(reg, 'POST', `${API('alice/x')}/_builds/rules`, { gitUrl: 'https://u:p@example.com/x.git', source: 'main' });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /no credentials in the Git URL/);
    assert.equal((await api(reg, 'POST', `${API('alice/x')}/_builds/rules`, { gitUrl: 'https://example.com/x.git', source: 'main', tag: '{1}' })).status, 400);
    assert.equal((await api(reg, 'POST', `${API('alice/x')}/_builds/rules`, { gitUrl: 'https://example.com/x.git', source: 'main', dockerfile: '../etc/passwd' })).status, 400);
    assert.equal((await api(reg, 'GET', `${API('alice/x')}/_builds/999`)).status, 404);
    assert.equal((await fetch(`${reg.url}${API('alice/x')}/builds/hook/nope`, { method: 'POST', body: '{}' })).status, 404);
  });
});

describe('berth build beside a running server', { skip: tools.skip }, () => {
  let work: string;
  let server: BerthProcess;
  let env: Record<string, string>;

  before(async () => {
    tools.check();
    work = await tempDir('builds-cli');
    await repoWith(path.join(work, 'repo'), { Dockerfile: 'FROM scratch\nCOPY hello.txt /hello.txt\n', 'hello.txt': 'hello\n' });
    await repoWith(path.join(work, 'base'), { Dockerfile: 'FROM scratch\nCOPY rootfs/ /\n', ...(await baseRootfs()) });
    const slow = path.join(work, 'slow');
    await repoWith(slow, { Dockerfile: 'FROM alice/base\nRUN sleep 3171\n' });
    for (const branch of ['slow-a', 'slow-b', 'slow-c']) await git(slow, 'branch', branch);
    env = { REGISTRY_BUILDS_ENABLED: 'true', REGISTRY_BUILDS_WORKDIR: path.join(work, 'builds'), REGISTRY_BUILDS_CONCURRENCY: '2' };
    server = await startBerth({ env });
  });

  after(async () => {
    await server?.stop();
    if (work !== undefined) await fs.rm(work, { recursive: true, force: true });
  });

  const berth = (...args: string[]) =>
    runOk(process.execPath, ['bin/berth.js', ...args], { cwd: REPO_ROOT, env: { ...env, REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: server.root, REGISTRY_LOG_LEVEL: 'warn', BERTH_FROM_SOURCE: '1' } });

  it('adds a rule, triggers a build the server runs, follows its log, and lists it as JSON', async () => {
    const added = JSON.parse((await berth('build', 'add', 'alice/cli', '--git', `file://${path.join(work, 'repo')}`, '--branch', 'main', '--tag', 'latest', '--json')).stdout) as { id: string; hookSecret: string; hookUrl: string };
    assert.match(added.hookUrl, new RegExp(`^/api/v1/repositories/alice/cli/builds/hook/${added.id}$`));
    assert.ok(added.hookSecret.length >= 43);
    const rules = (await berth('build', 'rules', 'alice/cli')).stdout;
    assert.ok(rules.includes(added.id) && !rules.includes(added.hookSecret), 'the secret is never shown again');
    const [queued] = JSON.parse((await berth('build', 'trigger', 'alice/cli', '--json')).stdout) as { id: number; status: string }[];
    assert.equal(queued?.status, 'queued');
    const logs = await berth('build', 'logs', 'alice/cli', String(queued?.id), '--follow');
    assert.match(logs.stdout, /# pushed 127\.0\.0\.1:\d+\/alice\/cli:latest@sha256:/);
    const list = JSON.parse((await berth('build', 'list', 'alice/cli', '--json')).stdout) as Record<string, unknown>[];
    assert.equal(list.length, 1);
    for (const key of ['id', 'status', 'ref', 'tag', 'digest', 'started', 'finished']) assert.ok(key in (list[0] ?? {}), key);
    assert.equal(list[0]?.['status'], 'succeeded');
    assert.equal(list[0]?.['ref'], 'main');
    const head = await fetch(`${server.url}/v2/alice/cli/manifests/latest`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(head.headers.get('docker-content-digest'), list[0]?.['digest']);
  });

  it('refuses to manage builds where the configuration has them off', async () => {
    const off = await run(process.execPath, ['bin/berth.js', 'build', 'list', 'alice/cli'], {
      cwd: REPO_ROOT,
      env: { ...env, REGISTRY_BUILDS_ENABLED: 'false', REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: server.root, REGISTRY_LOG_LEVEL: 'warn', BERTH_FROM_SOURCE: '1' },
    });
    assert.notEqual(off.code, 0);
    assert.match(off.stderr, /automated builds are off in this configuration \(builds\.enabled\)/);
  });

  // Last: it kills the server.
  it('runs builds.concurrency builds at once, oldest first, and none outlives a berth killed with SIGKILL', async () => {
    await berth('build', 'add', 'alice/base', '--git', `file://${path.join(work, 'base')}`, '--branch', 'main');
    const [base] = JSON.parse((await berth('build', 'trigger', 'alice/base', '--json')).stdout) as BuildView[];
    assert.equal((await finished(server, 'alice/base', base?.id ?? 0)).build.status, 'succeeded');
    await json(await api(server, 'POST', `${API('alice/slow')}/_builds/rules`, { gitUrl: `file://${path.join(work, 'slow')}`, source: '/^slow-/', tag: '{sourceref}' }), 201);
    const ids: number[] = [];
    for (const ref of ['slow-a', 'slow-b', 'slow-c']) {
      const [queued] = await json<BuildView[]>(await api(server, 'POST', `${API('alice/slow')}/_builds`, { ref }), 202);
      ids.push(queued?.id ?? 0);
    }
    const [a, b, c] = ids as [number, number, number];
    await untilLogShows(server, 'alice/slow', a, 'RUN sleep 3171');
    await untilLogShows(server, 'alice/slow', b, 'RUN sleep 3171');
    const third = await json<BuildView>(await api(server, 'GET', `${API('alice/slow')}/_builds/${c}`), 200);
    assert.equal(third.status, 'queued', 'two run (builds.concurrency 2), the newest waits');
    // both RUN steps are running: the sleeps exist
    const steps = await processesAfter(15_000, (p) => p.length >= 2);
    assert.ok(steps.length >= 2, `the RUN steps run: ${steps.join('\n')}`);
    server.kill('SIGKILL');
    // Every process of the two builds (buildah, its RUN steps) ends with berth, not at the build's timeout.
    assert.deepEqual(await processesAfter(15_000, (p) => p.length === 0), [], 'the RUN steps of a killed berth\'s builds are gone');
    assert.deepEqual(await processesWith(path.join(work, 'builds')), [], 'and so is every buildah of theirs');
  });
});
