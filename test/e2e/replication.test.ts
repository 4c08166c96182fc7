/**
 * Replication rules end to end: a berth (a process, as it is run) with a pull rule from another
 * berth (repository and tag filters, delete propagation), a push rule to distribution 2.8.2 with
 * htpasswd credentials that copies on push, and a scheduled rule; triggered through the API and the
 * CLI, watched through their runs and the replication.completed notifications; the remote's password
 * in no answer, output or log.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { TestReceiver } from '../../src/events/test-receiver.ts';
import type { TestRegistry } from '../helpers/inproc.ts';
import type { Distribution } from '../helpers/mirror.ts';
import { REPO_ROOT, requireTools, runOk, startBerth, tempDir, type BerthProcess } from '../helpers/process.ts';
import { completedEvent, digestAt, startReplicationWorld, type ReplicationEvent, type ReplicationWorld, type RunView, type TestImages } from '../helpers/replication.ts';

const tools = requireTools('docker-registry');

describe('replication rules', { skip: tools.skip }, () => {
  let work: string;
  let upstream: TestRegistry;
  let dist: Distribution;
  let receiver: TestReceiver;
  let server: BerthProcess;
  let configFile: string;
  let images: TestImages;
  let world: ReplicationWorld;
  const digests = (): Map<string, string> => images.digests;
  const pushTo = (url: string, repository: string, tag: string): Promise<string> => images.push(url, repository, tag);
  const completed = (match: (e: ReplicationEvent) => boolean): Promise<ReplicationEvent> => completedEvent(receiver, match);
  const api = (method: string, p: string) => fetch(`${server.url}${p}`, { method });

  before(async () => {
    tools.check();
    work = await tempDir('replication');
    world = await startReplicationWorld(work, [['lib/one', 'v1'], ['lib/one', 'v2'], ['lib/two', 'v1'], ['lib/one', 'dev'], ['other/x', 'v1'], ['sched/y', 'v1']], ({ upstream: u, dist: d }) => [
      { name: 'frombase', direction: 'pull', remote: { url: u.url }, filters: { repositories: ['lib/*'], tags: ['v*'] }, deletes: true, bandwidth: '100MiB' },
      { name: 'todist', direction: 'push', remote: { url: d.url, username: d.user, password: d.password }, filters: { repositories: ['app/*'] }, trigger: { onpush: true }, deletes: true },
      // every second (croner's six fields): the schedule is seen to fire
      { name: 'tick', direction: 'pull', remote: { url: u.url }, filters: { repositories: ['sched/y'] }, trigger: { schedule: '* * * * * *' } },
    ]);
    ({ upstream, dist, receiver, images, configFile } = world);
    const root = world.root;
    server = await startBerth({ configFile, root });
  });

  after(async () => {
    await server?.stop();
    await world?.stop();
    if (work !== undefined) await fs.rm(work, { recursive: true, force: true });
  });

  it('pulls the repositories and tags the filters take, then deletes what the remote no longer has', async () => {
    const res = await api('POST', '/api/v1/replication/frombase/trigger');
    assert.equal(res.status, 202, await res.clone().text());
    const run = (await res.json()) as RunView;
    assert.equal(run.status, 'running');
    const again = await api('POST', '/api/v1/replication/frombase/trigger');
    assert.ok(again.status === 409 || again.status === 202, 'refused while it runs, or it ended already');
    const ended = await completed((e) => e.target.replication?.run === run.id);
    // the first run was over already: let that second one end too
    if (again.status === 202) {
      const id = ((await again.json()) as RunView).id;
      await completed((e) => e.target.replication?.run === id);
    }
    assert.equal(ended.target.replication?.status, 'succeeded');
    for (const key of ['lib/one:v1', 'lib/one:v2', 'lib/two:v1']) {
      const [repo = '', tag = ''] = key.split(':');
      assert.equal(await digestAt(server.url, repo, tag), digests().get(key), key);
    }
    assert.equal(await digestAt(server.url, 'lib/one', 'dev'), null, 'the tag filter leaves dev');
    assert.equal(await digestAt(server.url, 'other/x', 'v1'), null, 'the repository filter leaves other/x');
    // the remote loses v2: the next run deletes it here
    assert.equal((await fetch(`${upstream.url}/v2/lib/one/manifests/${digests().get('lib/one:v2')}`, { method: 'DELETE' })).status, 202);
    const second = (await (await api('POST', '/api/v1/replication/frombase/trigger')).json()) as RunView;
    await completed((e) => e.target.replication?.run === second.id);
    const runs = (await (await api('GET', '/api/v1/replication/frombase/runs')).json()) as RunView[];
    assert.equal(runs[0]?.id, second.id);
    assert.equal(runs.at(-1)?.id, run.id);
    assert.equal(runs[0]?.deleted, 1);
    assert.equal(runs[0]?.skipped, 2);
    assert.equal(runs[0]?.copied, 0);
    assert.equal(runs.at(-1)?.copied, 3);
    assert.equal(await digestAt(server.url, 'lib/one', 'v2'), null);
  });

  it('copies a tag to distribution as it is pushed and deletes it there as it is deleted here, with the rule\'s credentials shown nowhere', async () => {
    const digest = await pushTo(server.url, 'app/web', '1.0');
    const e = await completed((x) => x.target.replication?.rule === 'todist' && x.target.tag === '1.0');
    assert.equal(e.target.replication?.trigger, 'onpush');
    assert.equal(e.target.repository, 'app/web');
    assert.equal(e.target.replication?.status, 'succeeded');
    assert.equal(await digestAt(dist.url, 'app/web', '1.0', `${dist.user}:${dist.password}`), digest);
    const listed = await (await api('GET', '/api/v1/replication')).text();
    const rules = JSON.parse(listed) as { name: string; remote: Record<string, unknown>; lastRun: RunView | null }[];
    assert.deepEqual(rules.map((r) => r.name), ['frombase', 'todist', 'tick']);
    assert.equal(rules[1]?.remote['username'], dist.user);
    assert.ok(!listed.includes(dist.password) && !server.logs().includes(dist.password), 'the password is in no answer or log');
    // a second tag, then its tag deleted here: deleted at distribution at once (which deletes by
    // digest only), in a run of its own
    const d = `${dist.user}:${dist.password}`;
    await pushTo(server.url, 'app/web', '2.0');
    await completed((x) => x.target.replication?.rule === 'todist' && x.target.tag === '2.0');
    assert.equal(await digestAt(dist.url, 'app/web', '2.0', d), digests().get('app/web:2.0'));
    assert.equal((await fetch(`${server.url}/v2/app/web/manifests/2.0`, { method: 'DELETE' })).status, 202);
    const gone = await completed((x) => x.target.replication?.rule === 'todist' && x.target.replication.trigger === 'ondelete' && x.target.tag === '2.0');
    assert.equal(gone.target.replication?.status, 'succeeded');
    assert.equal(await digestAt(dist.url, 'app/web', '2.0', d), null);
    // a third, deleted here by digest (its tags go along): a run of the repository deletes it there
    const third = await pushTo(server.url, 'app/web', '3.0');
    await completed((x) => x.target.replication?.rule === 'todist' && x.target.tag === '3.0');
    assert.equal((await fetch(`${server.url}/v2/app/web/manifests/${third}`, { method: 'DELETE' })).status, 202);
    const byDigest = await completed((x) => x.target.replication?.rule === 'todist' && x.target.replication.trigger === 'ondelete' && x.target.tag === undefined);
    assert.equal(byDigest.target.repository, 'app/web');
    assert.equal(await digestAt(dist.url, 'app/web', '3.0', d), null);
    assert.equal(await digestAt(dist.url, 'app/web', '1.0', d), digest, 'the rest stays');
    // an index there holds the image of a tag deleted here: distribution would take it out of the
    // index with it (it deletes by digest), so the tag is left, with the reason
    const multi = await images.pushIndex(server.url, 'app/multi', 'all', ['amd64', 'arm64']);
    await completed((x) => x.target.replication?.rule === 'todist' && x.target.tag === 'all');
    const child = multi.images[0];
    assert.ok(child !== undefined);
    const put = await fetch(`${server.url}/v2/app/multi/manifests/amd64`, { method: 'PUT', headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: new Uint8Array(child.manifest) });
    assert.equal(put.status, 201);
    await completed((x) => x.target.replication?.rule === 'todist' && x.target.tag === 'amd64');
    assert.equal((await fetch(`${server.url}/v2/app/multi/manifests/amd64`, { method: 'DELETE' })).status, 202);
    const kept = await completed((x) => x.target.replication?.rule === 'todist' && x.target.replication.trigger === 'ondelete' && x.target.tag === 'amd64');
    assert.equal(kept.target.replication?.status, 'failed');
    const [refused] = (await (await api('GET', '/api/v1/replication/todist/runs?limit=1')).json()) as RunView[];
    assert.match(refused?.failures[0]?.reason ?? '', /the index app\/multi:all holds the image/);
    assert.equal(await digestAt(dist.url, 'app/multi', child.manifestDigest, d), child.manifestDigest, 'the image the index holds is still there');
    // a full run finds the two the same: 1.0 skipped, nothing to copy or delete; and the metrics count what the runs did
    const full = (await (await api('POST', '/api/v1/replication/todist/trigger')).json()) as RunView;
    await completed((x) => x.target.replication?.run === full.id);
    const [last] = (await (await api('GET', '/api/v1/replication/todist/runs?limit=1')).json()) as RunView[];
    // 1.0 and the index the same; amd64 still refused
    assert.deepEqual([last?.skipped, last?.copied, last?.deleted, last?.failed], [2, 0, 0, 1], JSON.stringify(last));
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /berth_replication_runs_total\{rule="todist",status="succeeded"\} [4-9]/);
    assert.match(metrics, /berth_replication_images_total\{rule="todist",outcome="copied"\} 5/);
    assert.match(metrics, /berth_replication_images_total\{rule="todist",outcome="deleted"\} 2/);
    assert.match(metrics, /berth_replication_bytes_total\{rule="todist"\} [1-9]/);
  });

  it('runs a rule on its schedule, and from the CLI beside the server', async () => {
    const scheduled = await completed((e) => e.target.replication?.rule === 'tick' && e.target.replication.trigger === 'schedule');
    assert.match(scheduled.target.replication?.status ?? '', /succeeded/);
    assert.equal(await digestAt(server.url, 'sched/y', 'v1'), digests().get('sched/y:v1'));
    const env = { BERTH_FROM_SOURCE: '1' };
    const list = JSON.parse((await runOk(process.execPath, ['bin/berth.js', 'replication', 'list', '--config', configFile, '--json'], { cwd: REPO_ROOT, env })).stdout) as { name: string }[];
    assert.deepEqual(list.map((r) => r.name), ['frombase', 'todist', 'tick']);
    const cli = await runOk(process.execPath, ['bin/berth.js', 'replication', 'trigger', 'frombase', '--config', configFile, '--json'], { cwd: REPO_ROOT, env });
    const ran = JSON.parse(cli.stdout) as { status: string; counts: { skipped: number } };
    assert.equal(ran.status, 'succeeded');
    assert.equal(ran.counts.skipped, 2);
    const runs = await runOk(process.execPath, ['bin/berth.js', 'replication', 'runs', 'frombase', '--config', configFile], { cwd: REPO_ROOT, env });
    assert.match(runs.stdout, /manual\s+succeeded/);
    assert.ok(!`${list}${cli.stdout}${cli.stderr}${runs.stdout}`.includes(dist.password));
  });

  it('answers 404 for a rule that is not there, and refuses anyone but administrators once access control is on', async () => {
    assert.equal((await api('POST', '/api/v1/replication/nope/trigger')).status, 404);
    assert.equal((await api('GET', '/api/v1/replication/nope/runs')).status, 404);
    const env = { BERTH_FROM_SOURCE: '1' };
    const user = (name: string, ...flags: string[]) => runOk(process.execPath, ['bin/berth.js', 'user', 'add', name, ...flags, '--password-stdin', '--config', configFile], { cwd: REPO_ROOT, env, input: `${name}-password-1\n` });
    await user('boss', '--admin');
    await user('bob');
    const as = (name: string | undefined, method: string, p: string) =>
      fetch(`${server.url}${p}`, { method, headers: name === undefined ? {} : { authorization: `Basic ${Buffer.from(`${name}:${name}-password-1`).toString('base64')}` } });
    for (const [method, p] of [['GET', '/api/v1/replication'], ['POST', '/api/v1/replication/frombase/trigger'], ['GET', '/api/v1/replication/frombase/runs']] as const) {
      assert.equal((await as(undefined, method, p)).status, 401, `${method} ${p} anonymous`);
      assert.equal((await as('bob', method, p)).status, 403, `${method} ${p} as a user who is not an administrator`);
    }
    assert.equal((await as('boss', 'GET', '/api/v1/replication')).status, 200);
  });
});
