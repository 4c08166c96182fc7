/**
 * Replication rules made by administrators through the API and the CLI, beside the configuration
 * file's: made, run, changed, deleted with their runs; the remote's password sealed (in no answer,
 * file, output or log), kept across a change of the same remote, asked for again for another, and
 * still opening after a restart; every refusal (bad rules, the config's rules, names taken, callers
 * who are not administrators, a cross-site form).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestReceiver } from '../../src/events/test-receiver.ts';
import type { TestRegistry } from '../helpers/inproc.ts';
import type { Distribution } from '../helpers/mirror.ts';
import { REPO_ROOT, requireTools, run, runOk, startBerth, tempDir, type BerthProcess } from '../helpers/process.ts';
import { completedEvent, digestAt, startReplicationWorld, type ReplicationEvent, type ReplicationWorld, type RunView, type TestImages } from '../helpers/replication.ts';

const tools = requireTools('docker-registry');

interface RuleView {
  name: string;
  source: string;
  createdBy: string | null;
  direction: string;
  remote: { url: string; username: string | null; password: boolean };
  filters: { repositories: string[]; tags: string[]; platforms: string[] | null };
  trigger: { schedule: string | null; onpush: boolean; next: string | null };
  lastRun: RunView | null;
}

const ADMIN = 'boss';
const USER = 'bob';
const PASSWORD = (name: string) => `${name}-password-1`;
const basic = (name: string) => `Basic ${Buffer.from(`${name}:${PASSWORD(name)}`).toString('base64')}`;
const env = { BERTH_FROM_SOURCE: '1' };

/** Every file under `dir` that holds `needle`. */
async function filesHolding(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if ((await fs.readFile(file)).includes(needle)) found.push(file);
  }
  return found;
}

describe('replication rules made through the API and the CLI', { skip: tools.skip }, () => {
  let work: string;
  let upstream: TestRegistry;
  let dist: Distribution;
  let receiver: TestReceiver;
  let server: BerthProcess;
  let configFile: string;
  let root: string;
  let images: TestImages;
  let world: ReplicationWorld;

  const as = (who: string | undefined, method: string, p: string, body?: unknown, type = 'application/json') =>
    fetch(`${server.url}${p}`, {
      method,
      headers: { ...(who !== undefined && { authorization: basic(who) }), ...(body !== undefined && { 'content-type': type }) },
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  const admin = (method: string, p: string, body?: unknown) => as(ADMIN, method, p, body);
  const completed = (match: (e: ReplicationEvent) => boolean): Promise<ReplicationEvent> => completedEvent(receiver, match);
  /** Trigger rule `name` and wait for its run's end: the run as recorded. */
  const runNow = async (name: string): Promise<RunView> => {
    const res = await admin('POST', `/api/v1/replication/${name}/trigger`);
    assert.equal(res.status, 202, await res.clone().text());
    const { id } = (await res.json()) as RunView;
    await completed((e) => e.target.replication?.run === id && e.target.replication.rule === name);
    const runs = (await (await admin('GET', `/api/v1/replication/${name}/runs?limit=1`)).json()) as RunView[];
    assert.equal(runs[0]?.id, id);
    return runs[0];
  };
  const receiverWait = (done: () => boolean): Promise<void> => receiver.waitFor('bytes at the listener', done);
  const berthCli = (args: string[], input?: string) => run(process.execPath, ['bin/berth.js', 'replication', ...args, '--config', configFile], { cwd: REPO_ROOT, env, ...(input !== undefined && { input }) });

  before(async () => {
    tools.check();
    work = await tempDir('replication-api');
    world = await startReplicationWorld(work, [['lib/one', 'v1'], ['lib/one', 'dev'], ['lib/two', 'v1'], ['other/x', 'v1']], ({ upstream: u }) => [
      { name: 'fromfile', direction: 'pull', remote: { url: u.url }, filters: { repositories: ['other/*'] } },
    ]);
    ({ upstream, dist, receiver, images, root, configFile } = world);
    server = await startBerth({ configFile, root });
    for (const [name, flags] of [[ADMIN, ['--admin']], [USER, []]] as const) {
      await runOk(process.execPath, ['bin/berth.js', 'user', 'add', name, ...flags, '--password-stdin', '--config', configFile], { cwd: REPO_ROOT, env, input: `${PASSWORD(name)}\n` });
    }
  });

  after(async () => {
    await server?.stop();
    await world?.stop();
    if (work !== undefined) await fs.rm(work, { recursive: true, force: true });
  });

  it('makes a pull rule, runs it, changes its filters, and deletes it with its runs; and a push rule back to the other berth', async () => {
    const made = await admin('POST', '/api/v1/replication', { name: 'api-pull', direction: 'pull', remote: { url: upstream.url }, filters: { repositories: ['lib/*'], tags: ['v*'] } });
    assert.equal(made.status, 201, await made.clone().text());
    assert.equal(made.headers.get('location'), '/api/v1/replication/api-pull');
    const view = (await made.json()) as RuleView;
    assert.equal(view.source, 'api');
    assert.equal(view.createdBy, ADMIN);
    assert.deepEqual(view.filters, { repositories: ['lib/*'], tags: ['v*'], platforms: null });
    const listed = (await (await admin('GET', '/api/v1/replication')).json()) as RuleView[];
    assert.deepEqual(listed.map((r) => [r.name, r.source]), [['fromfile', 'config'], ['api-pull', 'api']]);

    const first = await runNow('api-pull');
    assert.equal(first.status, 'succeeded');
    assert.equal(first.copied, 2);
    assert.equal(await digestAt(server.url, 'lib/one', 'v1', `${ADMIN}:${PASSWORD(ADMIN)}`), images.digests.get('lib/one:v1'));
    assert.equal(await digestAt(server.url, 'lib/one', 'dev', `${ADMIN}:${PASSWORD(ADMIN)}`), null);

    const changed = await admin('PUT', '/api/v1/replication/api-pull', { direction: 'pull', remote: { url: upstream.url }, filters: { repositories: ['lib/one'], tags: ['*'] } });
    assert.equal(changed.status, 200, await changed.clone().text());
    const after = (await changed.json()) as RuleView;
    assert.deepEqual(after.filters, { repositories: ['lib/one'], tags: ['*'], platforms: null });
    assert.equal(after.lastRun?.id, first.id);
    const second = await runNow('api-pull');
    assert.equal(second.copied, 1, 'dev now');
    assert.equal(second.skipped, 1);
    assert.equal(await digestAt(server.url, 'lib/one', 'dev', `${ADMIN}:${PASSWORD(ADMIN)}`), images.digests.get('lib/one:dev'));

    // and back the other way, berth to berth: pushed under a prefix at the remote
    assert.equal((await admin('POST', '/api/v1/replication', { name: 'api-back', direction: 'push', remote: { url: upstream.url }, remoteprefix: 'backup', filters: { repositories: ['lib/one'] } })).status, 201);
    const back = await runNow('api-back');
    assert.equal(back.copied, 2, JSON.stringify(back));
    assert.equal(await digestAt(upstream.url, 'backup/lib/one', 'dev'), images.digests.get('lib/one:dev'));
    assert.equal((await admin('DELETE', '/api/v1/replication/api-back')).status, 204);

    assert.equal((await admin('DELETE', '/api/v1/replication/api-pull')).status, 204);
    assert.equal((await admin('GET', '/api/v1/replication/api-pull')).status, 404);
    assert.equal((await admin('GET', '/api/v1/replication/api-pull/runs')).status, 404);
    assert.equal((await admin('POST', '/api/v1/replication/api-pull/trigger')).status, 404);
    assert.equal((await admin('DELETE', '/api/v1/replication/api-pull')).status, 404);
    // a rule of the name again starts with no history
    assert.equal((await admin('POST', '/api/v1/replication', { name: 'api-pull', direction: 'pull', remote: { url: upstream.url } })).status, 201);
    assert.deepEqual(await (await admin('GET', '/api/v1/replication/api-pull/runs')).json(), []);
    assert.equal((await admin('DELETE', '/api/v1/replication/api-pull')).status, 204);
  });

  it("keeps a push rule's password sealed, across a change and a restart, and asks for it again for another remote", async () => {
    const body = { name: 'api-push', direction: 'push', remote: { url: dist.url, username: dist.user, password: dist.password }, filters: { repositories: ['lib/two'] } };
    const made = await admin('POST', '/api/v1/replication', body);
    const text = await made.text();
    assert.equal(made.status, 201, text);
    assert.ok(!text.includes(dist.password));
    assert.equal((JSON.parse(text) as RuleView).remote.password, true);
    await admin('POST', '/api/v1/replication', { name: 'seed', direction: 'pull', remote: { url: upstream.url }, filters: { repositories: ['lib/two'] } });
    assert.equal((await runNow('seed')).status, 'succeeded');
    const pushed = await runNow('api-push');
    assert.equal(pushed.status, 'succeeded', JSON.stringify(pushed.failures));
    assert.equal(await digestAt(dist.url, 'lib/two', 'v1', `${dist.user}:${dist.password}`), images.digests.get('lib/two:v1'));

    // the same remote and user without a password: the sealed one is kept, and still opens
    const kept = await admin('PUT', '/api/v1/replication/api-push', { ...body, remote: { url: dist.url, username: dist.user }, filters: { repositories: ['lib/*'] } });
    assert.equal(kept.status, 200, await kept.clone().text());
    assert.equal(((await kept.json()) as RuleView).remote.password, true);
    // another remote, or another user: the password must come again (a sealed one goes only where it was given for)
    for (const remote of [{ url: 'http://127.0.0.1:9', username: dist.user }, { url: dist.url, username: 'someone' }, { url: dist.url, username: dist.user, insecure: true }]) {
      const refused = await admin('PUT', '/api/v1/replication/api-push', { ...body, remote });
      assert.equal(refused.status, 400);
      assert.match(((await refused.json()) as { errors: { message: string }[] }).errors[0]?.message ?? '', /remote\.password/);
    }
    assert.equal((await admin('PUT', '/api/v1/replication/api-push', { ...body, name: 'renamed' })).status, 400);

    // a restart: the rule and its sealed password are read back from the database and the key
    await server.stop();
    server = await startBerth({ configFile, root });
    const again = await runNow('api-push');
    assert.equal(again.status, 'succeeded', JSON.stringify(again.failures));
    assert.equal(again.skipped, 1);

    const everything = `${await (await admin('GET', '/api/v1/replication')).text()}${await (await admin('GET', '/api/v1/replication/api-push')).text()}${server.logs()}`;
    assert.ok(!everything.includes(dist.password), 'the password is in no answer or log');
    assert.deepEqual(await filesHolding(root, dist.password), [], 'nor in any file of the registry (database, WAL, keys)');
    for (const name of ['api-push', 'seed']) assert.equal((await admin('DELETE', `/api/v1/replication/${name}`)).status, 204);
  });

  it('copies only the platforms a rule names out of a multi-platform image, and finds it the same the next time', async () => {
    const layout = await images.pushIndex(upstream.url, 'multi/app', '1.0', ['amd64', 'arm64', 's390x']);
    const rule = { name: 'arm-only', direction: 'pull', remote: { url: upstream.url }, filters: { repositories: ['multi/app'], platforms: ['linux/arm64', 'linux/s390x'] } };
    assert.equal((await admin('POST', '/api/v1/replication', rule)).status, 201);
    const first = await runNow('arm-only');
    assert.equal(first.copied, 1, JSON.stringify(first));
    const index = (await (await fetch(`${server.url}/v2/multi/app/manifests/1.0`, { headers: { authorization: basic(ADMIN), accept: 'application/vnd.oci.image.index.v1+json' } })).json()) as { manifests: { digest: string; platform: { architecture: string } }[] };
    assert.deepEqual(index.manifests.map((m) => m.platform.architecture), ['arm64', 's390x']);
    const byArch = new Map(layout.images.map((i) => [i.architecture, i.manifestDigest]));
    assert.deepEqual(index.manifests.map((m) => m.digest), [byArch.get('arm64'), byArch.get('s390x')]);
    assert.equal(await digestAt(server.url, 'multi/app', byArch.get('amd64') ?? '', `${ADMIN}:${PASSWORD(ADMIN)}`), null, 'the amd64 image is not copied');
    assert.equal((await runNow('arm-only')).skipped, 1, 'the narrowed index is the same the next run');
    // a platform no image has: nothing to copy
    assert.equal((await admin('PUT', '/api/v1/replication/arm-only', { ...rule, filters: { ...rule.filters, platforms: ['windows/amd64'] } })).status, 200);
    const none = await runNow('arm-only');
    assert.deepEqual([none.copied, none.skipped, none.failed], [0, 1, 0]);
    assert.equal((await admin('POST', '/api/v1/replication', { ...rule, name: 'bad-platform', filters: { platforms: ['linux'] } })).status, 400);
    assert.equal((await admin('DELETE', '/api/v1/replication/arm-only')).status, 204);
  });

  it('speaks TLS to an https:// remote on this machine too: the password never goes in clear', async () => {
    const received: Buffer[] = [];
    const listener = net.createServer((socket) => {
      socket.on('data', (d: Buffer) => received.push(d));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as net.AddressInfo).port;
    try {
      const rule = { name: 'tls-here', direction: 'push', remote: { url: `https://127.0.0.1:${port}`, username: 'robot', password: 'robot-secret-9' }, filters: { repositories: ['lib/two'] } };
      assert.equal((await admin('POST', '/api/v1/replication', rule)).status, 201);
      const res = await admin('POST', '/api/v1/replication/tls-here/trigger');
      const { id } = (await res.json()) as RunView;
      // the listener answers nothing: the run ends when berth gives up on the handshake; stop it by deleting the rule
      await receiverWait(() => received.length > 0);
      assert.equal((await admin('DELETE', '/api/v1/replication/tls-here')).status, 204);
      const sent = Buffer.concat(received);
      assert.equal(sent[0], 0x16, 'a TLS handshake record, not an HTTP request');
      assert.ok(!sent.includes('robot-secret-9') && !sent.includes(Buffer.from('robot:robot-secret-9').toString('base64')));
      assert.ok(id > 0);
    } finally {
      listener.close();
    }
  });

  it('refuses bad rules, the configuration\'s rules, taken names, and anyone but administrators', async () => {
    const bad: [unknown, RegExp][] = [
      [{ name: 'x', direction: 'sideways', remote: { url: upstream.url } }, /direction/],
      [{ name: 'x', direction: 'pull', remote: { url: upstream.url }, trigger: { onpush: true } }, /only a push rule copies on push/],
      [{ name: 'x', direction: 'pull', remote: { url: upstream.url }, trigger: { schedule: 'every day' } }, /not a cron schedule/],
      [{ name: 'x', direction: 'pull', remote: { url: upstream.url, username: 'u' } }, /both username and password/],
      [{ name: 'x', direction: 'pull', remote: { url: 'ftp://host' } }, /registry URL/],
      // a user in the URL would be shown (and in notifications): refused, as is a host hidden behind one
      [{ name: 'x', direction: 'pull', remote: { url: 'https://robot:secret@registry.example.com' } }, /no user/],
      [{ name: 'x', direction: 'pull', remote: { url: 'https://good.example.com@192.0.2.2:9443' } }, /no user/],
      [{ name: 'x', direction: 'pull', remote: { url: 'https://registry.example.com/?q#f' } }, /no user, path, query/],
      // the scheme is what is spoken: https is TLS, plain HTTP off this machine only when asked
      [{ name: 'x', direction: 'pull', remote: { url: 'https://registry.example.com', insecure: true } }, /insecure is plain HTTP/],
      [{ name: 'x', direction: 'pull', remote: { url: 'http://registry.example.com' } }, /plain HTTP to a host that is not on this machine/],
      // an exact repository name is written here as it is: it must be one
      [{ name: 'x', direction: 'pull', remote: { url: upstream.url }, filters: { repositories: ['alice/multi/../multi'] } }, /repository name/],
      [{ name: 'Bad Name', direction: 'pull', remote: { url: upstream.url } }, /lowercase name/],
      [{ name: 'x', direction: 'pull', remote: { url: upstream.url }, extra: 1 }, /extra/],
      [{ name: 'x', direction: 'pull', remote: { url: upstream.url }, bandwidth: '1B' }, /1KiB/],
      [[1, 2], /invalid body/],
    ];
    for (const [body, message] of bad) {
      const res = await admin('POST', '/api/v1/replication', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const error = ((await res.json()) as { errors: { code: string; message: string }[] }).errors[0];
      assert.equal(error?.code, 'REQUEST_INVALID');
      assert.match(error?.message ?? '', message);
    }
    // a cross-site form cannot send JSON
    assert.equal((await as(ADMIN, 'POST', '/api/v1/replication', JSON.stringify({ name: 'x', direction: 'pull', remote: { url: upstream.url } }), 'text/plain')).status, 400);
    // the configuration file's rule: run here, changed there
    assert.equal((await admin('POST', '/api/v1/replication', { name: 'fromfile', direction: 'pull', remote: { url: upstream.url } })).status, 409);
    assert.equal((await admin('PUT', '/api/v1/replication/fromfile', { direction: 'pull', remote: { url: upstream.url } })).status, 409);
    assert.equal((await admin('DELETE', '/api/v1/replication/fromfile')).status, 409);
    assert.equal((await admin('PUT', '/api/v1/replication/nope', { direction: 'pull', remote: { url: upstream.url } })).status, 404);
    assert.equal((await admin('POST', '/api/v1/replication', { name: 'taken', direction: 'pull', remote: { url: upstream.url } })).status, 201);
    assert.equal((await admin('POST', '/api/v1/replication', { name: 'taken', direction: 'push', remote: { url: dist.url } })).status, 409);
    const rule = { direction: 'pull', remote: { url: upstream.url } };
    for (const [method, p, body] of [
      ['GET', '/api/v1/replication', undefined],
      ['POST', '/api/v1/replication', { name: 'mine', ...rule }],
      ['GET', '/api/v1/replication/taken', undefined],
      ['PUT', '/api/v1/replication/taken', rule],
      ['DELETE', '/api/v1/replication/taken', undefined],
    ] as const) {
      assert.equal((await as(undefined, method, p, body)).status, 401, `${method} ${p} anonymous`);
      assert.equal((await as(USER, method, p, body)).status, 403, `${method} ${p} as a user who is not an administrator`);
    }
    assert.equal((await admin('GET', '/api/v1/replication/mine')).status, 404);
    assert.equal((await admin('DELETE', '/api/v1/replication/taken')).status, 204);
  });

  it('adds and removes rules from the CLI beside the server, which runs them on their schedule', async () => {
    const added = await berthCli(['add', 'cli-tick', '--direction', 'pull', '--url', upstream.url, '--repository', 'lib/two', '--schedule', '* * * * * *', '--json']);
    assert.equal(added.code, 0, added.stderr);
    assert.equal((JSON.parse(added.stdout) as RuleView).source, 'api');
    // the server reads the stored rules when asked for them (and every 15 s): the schedule starts
    const listed = (await (await admin('GET', '/api/v1/replication')).json()) as RuleView[];
    assert.ok(listed.some((r) => r.name === 'cli-tick' && r.trigger.next !== null));
    const fired = await completed((e) => e.target.replication?.rule === 'cli-tick' && e.target.replication.trigger === 'schedule');
    assert.equal(fired.target.replication?.status, 'succeeded');

    // credentials from standard input, never printed
    const withCreds = await berthCli(['add', 'cli-push', '--direction', 'push', '--url', dist.url, '--username', dist.user, '--password-stdin', '--repository', 'lib/two'], `${dist.password}\n`);
    assert.equal(withCreds.code, 0, withCreds.stderr);
    const list = await berthCli(['list']);
    assert.match(list.stdout, /cli-push\s+api\s+push/);
    assert.match(list.stdout, /fromfile\s+config\s+pull/);
    assert.ok(!`${withCreds.stdout}${withCreds.stderr}${list.stdout}`.includes(dist.password));
    const ran = await berthCli(['trigger', 'cli-push', '--json']);
    assert.equal(ran.code, 0, ran.stdout + ran.stderr);
    // edit changes what its options name and keeps the rest, the password too (the same remote)
    const edited = await berthCli(['edit', 'cli-push', '--tag', 'v*', '--deletes', '--json']);
    assert.equal(edited.code, 0, edited.stderr);
    const view = JSON.parse(edited.stdout) as RuleView & { deletes: boolean };
    assert.deepEqual(view.filters, { repositories: ['lib/two'], tags: ['v*'], platforms: null });
    assert.equal(view.deletes, true);
    assert.equal(view.remote.password, true);
    assert.equal((await berthCli(['trigger', 'cli-push'])).code, 0, 'the kept password still opens');
    const insecure = await berthCli(['edit', 'cli-push', '--insecure']);
    assert.equal(insecure.code, 1, 'another way to the remote needs the password again');
    assert.match(insecure.stderr, /remote\.password/);

    const refused = await berthCli(['remove', 'fromfile']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /configuration file/);
    for (const name of ['cli-tick', 'cli-push']) assert.equal((await berthCli(['remove', name])).code, 0);
    assert.equal((await admin('GET', '/api/v1/replication/cli-tick')).status, 404);
    assert.equal((await berthCli(['add', 'x', '--direction', 'pull'])).code, 2, 'a usage error without --url');
  });
});
