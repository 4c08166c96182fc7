/**
 * Notifications from real registry requests: an in-process berth with a `notifications` config
 * pointing at a local receiver, images pushed and pulled over HTTP, and distribution's events
 * arriving in order. Then an endpoint outage across a berth restart: the events of a push made
 * while the receiver is down are in the database before the push is acknowledged, `berth events`
 * lists them, and they arrive after the restart.
 *
 * The registry is assembled here as main.ts does, with the notifications wired in.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { events as eventsCommand } from '../../src/cli/events.ts';
import { configSchema, type Config } from '../../src/config/schema.ts';
import type { RegistryEvent } from '../../src/events/event.ts';
import { emittingDecorator } from '../../src/events/emitting-stores.ts';
import { createNotifications } from '../../src/events/notifications.ts';
import type { EventsStatus } from '../../src/events/status.ts';
import { TestReceiver } from '../../src/events/test-receiver.ts';
import { createHttpServer } from '../../src/http/server.ts';
import { createDriver } from '../../src/main.ts';
import { openSqliteBackend } from '../../src/meta/sqlite/backend.ts';
import { Registry } from '../../src/registry/registry.ts';
import { Client, OCI_MANIFEST } from '../helpers/client.ts';

interface Running {
  client: Client;
  port: number;
  close(): Promise<void>;
}

function configFor(root: string, url: string): Config {
  return configSchema.parse({
    http: { addr: '127.0.0.1:0' },
    log: { level: 'warn' },
    storage: { filesystem: { rootdirectory: root } },
    notifications: { endpoints: [{ name: 'hook', url, backoff: '10ms', headers: { Authorization: ['Bearer t'] } }] },
  });
}

async function startBerth(config: Config): Promise<Running> {
  const log = pino({ level: 'warn' });
  const backend = openSqliteBackend(config.meta.sqlite);
  const notifications = createNotifications({
    config: config.notifications,
    queue: backend.events,
    log,
    port: 5000,
    dispatcher: { maxBackoffMs: 100 },
  });
  const decorate = emittingDecorator(notifications.sink);
  const registry = new Registry({ driver: await createDriver(config), meta: backend.meta, deleteEnabled: true, readOnly: false, log, decorate });
  await registry.open();
  const options = { prefix: '', relativeUrls: false, headers: {}, redirectDisabled: true, catalogMaxEntries: 1000 };
  const server: Server = createHttpServer({ registry, log, options });
  notifications.start();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    client: new Client(`http://127.0.0.1:${port}`),
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await notifications.stop(500);
      await registry.close();
      await backend.close();
    },
  };
}

const summary = (e: RegistryEvent) => `${e.action} ${e.target.repository}${e.target.tag ? `:${e.target.tag}` : ''} ${e.target.digest ?? ''}`.trim();

describe('notifications from registry requests', () => {
  let root: string;
  let receiver: TestReceiver;
  let berth: Running | undefined;

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-e2e-notify-'));
    receiver = await TestReceiver.start();
  });
  after(async () => {
    await berth?.close();
    await receiver.down();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('sends push, pull, mount and delete events as distribution does', async () => {
    berth = await startBerth(configFor(root, receiver.url));
    const { client } = berth;
    const image = await client.pushImage('team/app', 'v1');
    await receiver.waitFor('the push events', () => receiver.accepted.length >= 3);
    const [configPush, layerPush, manifestPush] = receiver.accepted;
    assert.deepEqual(receiver.accepted.map(summary), [
      `push team/app ${image.config.digest}`,
      `push team/app ${image.layer.digest}`,
      `push team/app:v1 ${image.descriptor.digest}`,
    ]);
    assert.deepEqual(manifestPush?.target, {
      mediaType: OCI_MANIFEST,
      size: image.descriptor.size,
      digest: image.descriptor.digest,
      length: image.descriptor.size,
      repository: 'team/app',
      url: `${client.base}/v2/team/app/manifests/${image.descriptor.digest}`,
      tag: 'v1',
    });
    assert.equal(layerPush?.target.mediaType, 'application/octet-stream');
    assert.equal(layerPush?.target.size, image.layer.size);
    assert.equal(configPush?.request.method, 'POST');
    assert.equal(manifestPush?.request.method, 'PUT');
    assert.equal(manifestPush?.request.host, `127.0.0.1:${berth.port}`);
    assert.match(manifestPush?.request.addr ?? '', /^127\.0\.0\.1:\d+$/);
    assert.ok(manifestPush?.request.id);
    assert.deepEqual(manifestPush?.actor, {});
    assert.equal(manifestPush?.source.addr, `${os.hostname()}:5000`);
    assert.match(manifestPush?.source.instanceID ?? '', /^[0-9a-f-]{36}$/);
    const request = receiver.requests.at(-1);
    assert.equal(request?.headers['content-type'], 'application/vnd.docker.distribution.events.v1+json');
    assert.equal(request?.headers['authorization'], 'Bearer t');

    const seen = receiver.accepted.length;
    const manifest = await client.fetch('/v2/team/app/manifests/v1', { headers: { Accept: OCI_MANIFEST, 'User-Agent': 'puller/2' } });
    assert.equal(manifest.status, 200);
    await manifest.arrayBuffer();
    assert.equal((await client.fetch('/v2/team/app/manifests/v1', { method: 'HEAD' })).status, 200);
    assert.equal((await client.fetch(`/v2/team/app/blobs/${image.layer.digest}`, { method: 'HEAD' })).status, 200);
    const blob = await client.fetch(`/v2/team/app/blobs/${image.layer.digest}`);
    assert.equal(await blob.text(), 'layer of team/app:v1');
    const mount = await client.fetch(`/v2/team/other/blobs/uploads/?mount=${image.layer.digest}&from=team/app`, { method: 'POST' });
    assert.equal(mount.status, 201);
    assert.equal((await client.fetch('/v2/team/app/manifests/v1', { method: 'DELETE' })).status, 202);
    assert.equal((await client.fetch(`/v2/team/app/manifests/${image.descriptor.digest}`, { method: 'DELETE' })).status, 202);
    assert.equal((await client.fetch(`/v2/team/other/blobs/${image.layer.digest}`, { method: 'DELETE' })).status, 202);

    await receiver.waitFor('the later events', () => receiver.accepted.length >= seen + 6);
    const later = receiver.accepted.slice(seen);
    assert.deepEqual(later.map(summary), [
      `pull team/app:v1 ${image.descriptor.digest}`,
      `pull team/app ${image.layer.digest}`,
      `mount team/other ${image.layer.digest}`,
      'delete team/app:v1',
      `delete team/app ${image.descriptor.digest}`,
      `delete team/other ${image.layer.digest}`,
    ]);
    assert.equal(later[0]?.request.useragent, 'puller/2');
    assert.equal(later[2]?.target.fromRepository, 'team/app');
    assert.equal(later[3]?.target.mediaType, undefined, 'delete events carry no media type');
    await berth.close();
    berth = undefined;
  });

  it('loses nothing across an endpoint outage and a berth restart', async () => {
    await berth?.close(); // left running if the test before failed
    await receiver.down();
    const config = configFor(root, receiver.url);
    berth = await startBerth(config);
    const image = await berth.client.pushImage('team/app', 'v2');

    // Queued before each response: the three events are in the database as soon as the push returns.
    const reader = openSqliteBackend({ path: config.meta.sqlite.path, readOnly: true });
    const queued = await reader.events.list();
    await reader.close();
    const expected = queued.map((d) => d.event.id);
    assert.deepEqual(queued.map((d) => summary(d.event)), [
      `push team/app ${image.config.digest}`,
      `push team/app ${image.layer.digest}`,
      `push team/app:v2 ${image.descriptor.digest}`,
    ]);
    await berth.close();
    berth = undefined;

    // `berth events` lists them (failed once the dispatcher has tried the dead endpoint).
    const file = path.join(root, 'config.yml');
    await fs.writeFile(file, `storage:\n  filesystem:\n    rootdirectory: ${root}\n`);
    let printed = '';
    const code = await eventsCommand(['--config', file, '--json'], { write: (s: string) => (printed += s) });
    assert.equal(code, 0);
    const status = JSON.parse(printed) as EventsStatus;
    assert.equal(status.endpoints[0]?.name, 'hook');
    assert.equal((status.endpoints[0]?.pending ?? 0) + (status.endpoints[0]?.failed ?? 0), 3);
    assert.deepEqual(status.deliveries.map((d) => d.event.id), expected);

    await receiver.up();
    const before = receiver.accepted.length;
    berth = await startBerth(configFor(root, receiver.url));
    await receiver.waitFor('the events after the restart', () => expected.every((id) => receiver.accepted.some((e) => e.id === id)));
    const arrived = receiver.accepted.slice(before).map((e) => e.id);
    assert.deepEqual([...new Set(arrived)], expected, 'every event, in order');
  });
});
