/**
 * Retention over real HTTP, on an injected clock: a policy from the config and one set through the
 * API; the preview (API, and `berth retention preview` beside the running server) lists exactly
 * the tags expected, each with its rule; pulls by tag and by digest keep tags alive; applying
 * deletes exactly those through the served store, with a delete notification each; refusals
 * (anonymous 401, non-owners and patterns beyond one's namespace 403, bad regex or age or an
 * unknown key 400 naming it, the admin-only preview 403); an immutable tag is kept, and said to be.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { configSchema } from '../../src/config/schema.ts';
import { startRegistry, type RunningRegistry } from '../../src/main.ts';
import { SYSTEM } from '../../src/auth/principal.ts';
import { TestReceiver } from '../../src/events/test-receiver.ts';
import type { RegistryEvent } from '../../src/events/event.ts';
import { runCli } from '../../src/cli/index.ts';
import { api } from '../helpers/api.ts';
import { AuthClient, type Credentials } from '../helpers/auth-client.ts';

const root: Credentials = { user: 'ops', password: 'ops-password' };
const alice: Credentials = { user: 'alice', password: 'alice-password' };
const bob: Credentials = { user: 'bob', password: 'bob-password' };
const HOUR = 3_600_000;
/** The injected clock (pull stamps, retention's ages) starts at the real time, which pushes are recorded at. */
const T0 = Date.now();

interface TagView {
  tag: string;
  action: string;
  rule: string;
  reason: string;
}
interface RepoView {
  repository: string;
  policy: string;
  tags: TagView[];
  untagged: { digest: string }[];
}

/** repository -> the tags it would delete, each as tag:rule. */
function deletions(repos: RepoView[]): Record<string, string[]> {
  return Object.fromEntries(repos.map((r) => [r.repository, r.tags.filter((t) => t.action === 'delete').map((t) => `${t.tag}:${t.rule}`)]));
}

describe('retention end to end', () => {
  let dir: string;
  let clock = T0;
  let running: RunningRegistry;
  let receiver: TestReceiver;
  let url: string;
  let configFile: string;
  const call = (...a: Parameters<ReturnType<typeof api>>) => api(url)(...a);
  const digests: Record<string, string> = {};

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-retention-'));
    receiver = await TestReceiver.start();
    const input = {
      http: { addr: '127.0.0.1:0' },
      log: { level: 'warn' },
      storage: { filesystem: { rootdirectory: dir } },
      notifications: { endpoints: [{ name: 'hook', url: receiver.url, backoff: '10ms' }] },
      retention: { policies: [{ repository: 'alice/*', keep: { newest: 2 }, delete: { untaggedafter: '1h' } }] },
      // t1 is held: the preview keeps it (rule immutable), and applying leaves it
      access: { immutable: [{ repository: 'alice/app', tags: ['t1'] }] },
    };
    configFile = path.join(dir, 'config.json');
    await fs.writeFile(configFile, JSON.stringify(input));
    running = await startRegistry(configSchema.parse(input), pino({ level: 'warn' }), { now: () => clock });
    url = `http://127.0.0.1:${running.address.port}`;
    const accounts = running.access.accounts;
    await accounts.createUser(SYSTEM, root.user, root.password, true);
    await accounts.createUser(SYSTEM, alice.user, alice.password);
    await accounts.createUser(SYSTEM, bob.user, bob.password);

    const client = new AuthClient(url, alice, 'basic');
    // Oldest first (pushes in the same millisecond are ordered by name, as these are): app's t1..t4,
    // web's a, b, c, and u pushed twice (its first manifest left untagged).
    for (const [repo, tag] of [['alice/app', 't1'], ['alice/app', 't2'], ['alice/app', 'u'], ['alice/app', 't3'], ['alice/app', 't4'], ['alice/web', 'a'], ['alice/web', 'b'], ['alice/web', 'c']] as const) {
      digests[`${repo}:${tag}`] = (await client.pushImage(repo, tag)).descriptor.digest;
    }
    digests['alice/app:u-old'] = digests['alice/app:u'] ?? '';
    digests['alice/app:u'] = (await client.pushImage('alice/app', 'u', { layer: 'u again' })).descriptor.digest;
  });
  after(async () => {
    await running.close(1000);
    await receiver.down();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('a namespace owner sets a policy for a repository of theirs through the API; others are refused', async () => {
    const policy = { repository: 'alice/web', delete: { notpulledfor: '1h' } };
    assert.equal((await call('PUT', '/api/v1/retention/policies', { body: policy })).status, 401);
    const denied = await call('PUT', '/api/v1/retention/policies', { as: bob, body: policy });
    assert.equal(denied.status, 403);
    assert.equal(denied.code, 'DENIED');
    assert.equal((await call('PUT', '/api/v1/retention/policies', { as: alice, body: { repository: '*', keep: { newest: 1 } } })).status, 403, 'a pattern beyond her namespace');
    assert.equal((await call('PUT', '/api/v1/retention/policies', { as: alice, body: { repository: 'ali*/x', keep: { newest: 1 } } })).status, 403);

    const badRegex = await call('PUT', '/api/v1/retention/policies', { as: alice, body: { repository: 'alice/web', keep: { tags: ['^v[0-9'] } } });
    assert.equal(badRegex.status, 400);
    assert.match(badRegex.text, /keep\.tags\.0: \\"\^v\[0-9\\" is not a valid regular expression/);
    const badAge = await call('PUT', '/api/v1/retention/policies', { as: alice, body: { repository: 'alice/web', delete: { notpulledfor: '3 weeks' } } });
    assert.equal(badAge.status, 400);
    assert.match(badAge.text, /delete\.notpulledfor/);
    const misspelt = await call('PUT', '/api/v1/retention/policies', { as: alice, body: { repository: 'alice/web', delete: { notpuledfor: '1h' } } });
    assert.equal(misspelt.status, 400);
    assert.match(misspelt.text, /notpuledfor/);

    const set = await call('PUT', '/api/v1/retention/policies', { as: alice, body: policy });
    assert.equal(set.status, 200, set.text);
    const { updatedAt, ...stored } = set.body as { updatedAt: string };
    assert.deepEqual(stored, { repository: 'alice/web', keep: { tags: [] }, delete: { notpulledfor: '1h' }, source: 'api', updatedBy: 'alice' });
    assert.ok(Math.abs(Date.parse(updatedAt) - Date.now()) < 60_000, updatedAt);

    const mine = (await call('GET', '/api/v1/retention/policies', { as: alice })).body as { policies: { repository: string; source: string }[] };
    assert.deepEqual(mine.policies.map((p) => [p.repository, p.source]), [['alice/*', 'config'], ['alice/web', 'api']]);
    const bobs = (await call('GET', '/api/v1/retention/policies', { as: bob })).body as { policies: unknown[] };
    assert.deepEqual(bobs.policies, [], 'bob sees no policy he may not edit');
  });

  it('pulls by tag and by digest keep tags alive; the preview lists exactly what would go and why', async () => {
    clock += 2 * HOUR;
    const puller = new AuthClient(url, alice, 'basic');
    assert.equal((await puller.fetch('/v2/alice/web/manifests/b')).status, 200);
    assert.equal((await puller.fetch(`/v2/alice/web/manifests/${digests['alice/web:c']}`)).status, 200);
    await running.search.pulls.flush();
    clock += 30 * 60_000;

    const preview = await call('GET', '/api/v1/retention/preview', { as: root });
    assert.equal(preview.status, 200, preview.text);
    const body = preview.body as { deletes: { tags: number; manifests: number }; repositories: RepoView[] };
    assert.deepEqual(deletions(body.repositories), { 'alice/app': ['t2:unkept', 't3:unkept'], 'alice/web': ['a:delete.notpulledfor'] });
    assert.deepEqual(body.deletes, { tags: 3, manifests: 1 });
    const app = body.repositories.find((r) => r.repository === 'alice/app');
    assert.deepEqual(app?.tags.find((t) => t.tag === 't1'), { ...app?.tags.find((t) => t.tag === 't1'), action: 'keep', rule: 'immutable' });
    assert.deepEqual(app?.untagged.map((m) => m.digest), [digests['alice/app:u-old']]);
    const web = body.repositories.find((r) => r.repository === 'alice/web');
    assert.deepEqual(web?.tags.map((t) => [t.tag, t.action]), [['a', 'delete'], ['b', 'keep'], ['c', 'keep']]);
    assert.equal(web?.tags[1]?.reason, `last pulled 30 minutes ago (${new Date(clock - 30 * 60_000).toISOString().slice(0, 10)}); delete.notpulledfor: 1h`);

    assert.equal((await call('GET', '/api/v1/retention/preview', { as: alice })).status, 403, 'the whole preview is for administrators');
    const hers = await call('GET', '/api/v1/retention/preview?pattern=alice/*', { as: alice });
    assert.equal(hers.status, 200, hers.text);
    assert.deepEqual(deletions((hers.body as { repositories: RepoView[] }).repositories), deletions(body.repositories), 'her namespace: both repositories, each under its own policy');
    assert.equal((await call('GET', '/api/v1/retention/preview?pattern=alice/*', { as: bob })).status, 403);
    assert.equal((await call('GET', '/api/v1/retention/preview?pattern=Alice', { as: alice })).status, 400);
    const own = await call('GET', '/api/v1/repositories/alice/web/_retention', { as: alice });
    assert.equal(own.status, 200, own.text);
    assert.deepEqual(deletions([(own.body as { preview: RepoView }).preview]), { 'alice/web': ['a:delete.notpulledfor'] });
    assert.equal((own.body as { mayEdit: boolean }).mayEdit, true);
    assert.equal((await call('GET', '/api/v1/repositories/alice/web/_retention', { as: bob })).status, 403);
  });

  it('berth retention preview lists the config and API policies beside the running server', async () => {
    let out = '';
    let err = '';
    const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, stdin: process.stdin, env: {} };
    const status = await runCli(['retention', 'preview', '--json', '--config', configFile, '--repository', 'alice/app'], io);
    assert.equal(status, 0, err);
    const plan = JSON.parse(out) as { policies: string[]; repositories: RepoView[] };
    assert.deepEqual(plan.policies, ['alice/*', 'alice/web']);
    // keep.newest does not depend on the clock; the CLI's is the real one.
    assert.deepEqual(deletions(plan.repositories), { 'alice/app': ['t2:unkept', 't3:unkept'] });
    out = '';
    assert.equal(await runCli(['retention', 'preview', '--all', '--config', configFile], io), 0, err);
    // On the real clock u's first manifest has been untagged for seconds, and web's tags idle for as long: they stay.
    assert.match(out, /^alice\/app {2}\(policy alice\/\*\): 2 of 5 tags and 0 untagged manifests to delete$/m);
    assert.match(out, /^ {2}keep +t1 +immutable /m);
    assert.match(out, /^total: 2 tags and 0 untagged manifests would be deleted in 2 repositories$/m);
    err = '';
    assert.equal(await runCli(['retention', 'preview', '--repository', 'Alice/App', '--config', configFile], io), 2);
    assert.match(err, /--repository: "Alice\/App" is not a repository name/);
  });

  it('applying deletes exactly those, through the served store, with a delete notification each', async () => {
    const report = await running.retention.apply(false);
    assert.deepEqual(report.deleted, { tags: 3, manifests: 1 });
    assert.equal(report.errors, 0);
    const tags = async (repo: string) => ((await (await new AuthClient(url, alice, 'basic').fetch(`/v2/${repo}/tags/list`)).json()) as { tags: string[] }).tags;
    assert.deepEqual(await tags('alice/app'), ['t1', 't4', 'u']);
    assert.deepEqual(await tags('alice/web'), ['b', 'c']);
    const deletes = await waitForDeletes(receiver, 4);
    assert.deepEqual(
      deletes.map((e) => `${e.target.repository}:${e.target.tag ?? e.target.digest}`).sort(),
      ['alice/app:t2', 'alice/app:t3', `alice/app:${digests['alice/app:u-old']}`, 'alice/web:a'].sort(),
    );
    // The next run finds t2 and t3's manifests untagged for over an hour (on the injected clock): they go too; then nothing is left to do.
    const next = await running.retention.apply(false);
    assert.deepEqual(next.repositories.flatMap((r) => r.deletedManifests).sort(), [digests['alice/app:t2'], digests['alice/app:t3']].sort());
    assert.deepEqual((await running.retention.apply(false)).deleted, { tags: 0, manifests: 0 });
  });
});

/** The delete events received, once there are `n` of them. */
async function waitForDeletes(receiver: TestReceiver, n: number): Promise<RegistryEvent[]> {
  const deletes = () => receiver.accepted.filter((e) => e.action === 'delete');
  await receiver.waitFor(`${n} delete events`, () => deletes().length >= n);
  return deletes();
}
