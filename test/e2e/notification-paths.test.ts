/**
 * Events come from the stores, not the handlers (issue 15): every path that changes the registry
 * emits each event once. A berth started as main.ts starts it (notifications, a mirror of a second
 * berth), a receiver, and a marker: after the operations under test, a blob is pushed to a marker
 * repository and its push event awaited; an endpoint gets its events in order, so everything
 * queued before the marker has arrived by then, and nothing more than what the test lists.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RegistryEvent } from '../../src/events/event.ts';
import { TestReceiver } from '../../src/events/test-receiver.ts';
import { runBerth } from '../../src/cli/test-support.ts';
import { SYSTEM } from '../../src/auth/principal.ts';
import { SYSTEM_ACTORS } from '../../src/events/context.ts';
import { Client, OCI_MANIFEST, sha256 } from '../helpers/client.ts';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';

const summary = (e: RegistryEvent) => `${e.action} ${e.target.repository}${e.target.tag ? `:${e.target.tag}` : ''} ${e.target.digest ?? ''}`.trim();

describe('notification events from every path', () => {
  let receiver: TestReceiver;
  let upstream: TestRegistry;
  let berth: TestRegistry;
  let client: Client;
  let markers = 0;

  before(async () => {
    receiver = await TestReceiver.start();
    upstream = await startTestRegistry();
    berth = await startTestRegistry({
      config: {
        storage: { delete: { enabled: true } },
        notifications: { endpoints: [{ name: 'hook', url: receiver.url, backoff: '10ms' }] },
        proxy: { upstreams: [{ name: 'up', prefix: 'mirrored/', remoteprefix: 'library/', url: upstream.url }] },
      },
    });
    client = new Client(berth.url);
  });
  after(async () => {
    await berth?.stop();
    await upstream?.stop();
    await receiver?.down();
  });

  /** Push a marker and wait for its event: everything queued before has arrived. Returns the index after it. */
  async function mark(): Promise<number> {
    const marker = await client.pushBlob('marker/x', `marker ${++markers}`);
    const isMarker = (e: RegistryEvent) => e.target.repository === 'marker/x' && e.target.digest === marker.digest;
    await receiver.waitFor('the marker event', () => receiver.accepted.some(isMarker));
    return receiver.accepted.findIndex(isMarker) + 1;
  }

  /** The events that arrived from `from` (a mark()) on, up to a marker pushed now. */
  async function eventsSince(from: number): Promise<RegistryEvent[]> {
    const end = (await mark()) - 1;
    return receiver.accepted.slice(from, end);
  }

  it('a tag and a repository deleted through /api/v1 emit each delete once', async () => {
    const v1 = await client.pushImage('team/app', 'v1');
    const v2 = await client.pushImage('team/app', 'v2');
    const from = await mark();
    assert.equal((await client.fetch('/api/v1/repositories/team/app/_tags/v2', { method: 'DELETE' })).status, 204);
    assert.equal((await client.fetch('/api/v1/repositories/team/app', { method: 'DELETE' })).status, 204);
    const events = await eventsSince(from);
    assert.equal(events[0] && summary(events[0]), 'delete team/app:v2');
    assert.deepEqual(events.slice(1).map(summary).sort(), [`delete team/app ${v1.descriptor.digest}`, `delete team/app ${v2.descriptor.digest}`].sort());
    assert.equal(events.length, 3, 'no event twice');
    assert.ok(events.every((e) => e.request.method === 'DELETE' && e.request.id !== ''), 'the request that deleted');
  });

  it('a manifest deleted through /v2 emits its delete once', async () => {
    const image = await client.pushImage('team/single', 'v1');
    const from = await mark();
    assert.equal((await client.fetch(`/v2/team/single/manifests/${image.descriptor.digest}`, { method: 'DELETE' })).status, 202);
    assert.deepEqual((await eventsSince(from)).map(summary), [`delete team/single ${image.descriptor.digest}`]);
  });

  it('berth repo delete queues its delete events as berth-cli, and the server sends them', async () => {
    const image = await client.pushImage('cli/app', 'v1');
    const root = berth.root ?? '';
    const config = (deleteEnabled: boolean) => ({
      storage: { filesystem: { rootdirectory: root }, delete: { enabled: deleteEnabled } },
      notifications: { endpoints: [{ name: 'hook', url: receiver.url }] },
    });
    const file = path.join(root, 'cli.yml');
    const refused = path.join(root, 'cli-no-delete.yml');
    // YAML is a superset of JSON
    await fs.writeFile(file, JSON.stringify(config(true)));
    await fs.writeFile(refused, JSON.stringify(config(false)));
    const from = await mark();

    const off = await runBerth(['repo', 'delete', 'cli/app', '--config', refused]);
    assert.equal(off.code, 1, 'deletes are off in that config');
    assert.match(off.stderr, /delet/i);
    assert.equal((await runBerth(['repo', 'delete', 'Not A Name', '--config', file])).code, 2);
    assert.equal((await runBerth(['repo', 'delete', 'cli/none', '--config', file])).code, 1, 'no such repository');
    assert.equal((await client.fetch('/v2/cli/app/manifests/v1', { headers: { Accept: OCI_MANIFEST } })).status, 200, 'nothing deleted yet');
    const pulled = await eventsSince(from);
    assert.deepEqual(pulled.map(summary), [`pull cli/app:v1 ${image.descriptor.digest}`], 'the refusals queued nothing');

    const since = await mark();
    const done = await runBerth(['repo', 'delete', 'cli/app', '--config', file]);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.stdout, 'deleted cli/app: 1 manifests\n');
    const events = await eventsSince(since);
    assert.deepEqual(events.map(summary), [`delete cli/app ${image.descriptor.digest}`]);
    assert.deepEqual(events[0]?.actor, { name: 'berth-cli' });
    assert.deepEqual(events[0]?.request, { id: '', addr: '', host: '', method: '', useragent: '' });
    assert.equal((await client.fetch(`/v2/cli/app/manifests/${image.descriptor.digest}`, { method: 'HEAD' })).status, 404);
  });

  it("berth gc queues retention's deletes as berth-retention and its own as berth-gc, and the server sends them", async () => {
    const old = await client.pushImage('ret/app', 'v1', { layer: 'ret one' });
    await client.pushImage('ret/app', 'v2', { layer: 'ret two' });
    const moved = await client.pushImage('gcu/app', 'v1', { layer: 'gcu one' });
    await client.pushImage('gcu/app', 'v1', { layer: 'gcu two' });
    const root = berth.root ?? '';
    const file = path.join(root, 'gc.yml');
    const config = {
      storage: { filesystem: { rootdirectory: root }, delete: { enabled: true }, gc: { grace: '0', interval: '0', untagged: 'delete' } },
      retention: { policies: [{ repository: 'ret/*', keep: { newest: 1 } }] },
      notifications: { endpoints: [{ name: 'hook', url: receiver.url }] },
    };
    await fs.writeFile(file, JSON.stringify(config));
    const from = await mark();
    const run = await runBerth(['gc', '--config', file, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const events = await eventsSince(from);
    const byActor = (name: string) => events.filter((e) => e.actor.name === name).map(summary).sort();
    assert.deepEqual(byActor('berth-retention'), ['delete ret/app:v1']);
    assert.deepEqual(byActor('berth-gc'), [`delete gcu/app ${moved.descriptor.digest}`, `delete ret/app ${old.descriptor.digest}`].sort());
    assert.equal(events.length, 3, 'nothing else, nothing twice');
    assert.ok(events.every((e) => e.request.method === ''), 'no request made them');
    assert.equal((await client.fetch(`/v2/ret/app/manifests/${old.descriptor.digest}`, { method: 'HEAD' })).status, 404);
  });

  it("a mirror fill emits a push as berth-mirror before the client's pull; a cached pull only the pull", async () => {
    const up = new Client(upstream.url);
    const image = await up.pushImage('library/base', '1.0');
    const from = await mark();
    const get = () => client.fetch('/v2/mirrored/base/manifests/1.0', { headers: { Accept: OCI_MANIFEST, 'User-Agent': 'puller/3' } });
    const first = await get();
    assert.equal(first.status, 200);
    await first.arrayBuffer();
    const events = await eventsSince(from);
    const digest = image.descriptor.digest;
    assert.deepEqual(events.map(summary), [`push mirrored/base:1.0 ${digest}`, `pull mirrored/base:1.0 ${digest}`]);
    const [fill, pull] = events;
    assert.deepEqual(fill?.actor, { name: 'berth-mirror' });
    assert.deepEqual(fill?.target, {
      mediaType: OCI_MANIFEST,
      size: image.descriptor.size,
      digest,
      length: image.descriptor.size,
      repository: 'mirrored/base',
      tag: '1.0',
    });
    assert.deepEqual(fill?.request, { id: '', addr: '', host: '', method: '', useragent: '' }, 'the mirror stored it, no client');
    assert.equal(pull?.request.useragent, 'puller/3');
    assert.equal(pull?.target.url, `${berth.url}/v2/mirrored/base/manifests/${digest}`);
    assert.deepEqual(pull?.actor, {});

    const again = await mark();
    const second = await get();
    assert.equal(second.status, 200);
    await second.arrayBuffer();
    assert.deepEqual((await eventsSince(again)).map(summary), [`pull mirrored/base:1.0 ${digest}`]);
  });

  // Last: the first user switches access control on, and anonymous pushes (the markers) stop.
  it("names the authenticated user as a request's actor", async () => {
    await berth.running.access.accounts.createUser(SYSTEM, 'alice', 'secret-pw-1', true);
    const body = 'pushed by alice';
    const digest = sha256(body);
    const auth = { Authorization: `Basic ${Buffer.from('alice:secret-pw-1').toString('base64')}` };
    const res = await client.fetch(`/v2/alice/app/blobs/uploads/?digest=${digest}`, { method: 'POST', body, headers: auth });
    assert.equal(res.status, 201);
    const ofPush = (e: RegistryEvent) => e.action === 'push' && e.target.digest === digest;
    await receiver.waitFor('the push event', () => receiver.accepted.some(ofPush));
    assert.deepEqual(receiver.accepted.find(ofPush)?.actor, { name: 'alice' });
  });

  it("refuses the system actors' names to users and organisations: no one passes for garbage collection", async () => {
    const { accounts } = berth.running.access;
    for (const name of Object.values(SYSTEM_ACTORS)) {
      await assert.rejects(accounts.createUser(SYSTEM, name, 'secret-pw-1', false), /is reserved/, `user ${name}`);
      await assert.rejects(accounts.createOrg(SYSTEM, name, 'alice'), /is reserved/, `organisation ${name}`);
    }
  });
});
