/**
 * The stores' decorator: each change emits once it has happened, with its cause (the request or
 * job the stores are bound to, asSystem()'s actor for the calls it makes at once, else `berth`),
 * into a real queue through the real QueueSink.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { digestOf } from '../registry/digest.ts';
import { ManifestUnknownError } from '../registry/errors.ts';
import { OCI_INDEX } from '../registry/media-types.ts';
import { Registry } from '../registry/registry.ts';
import type { ManifestStore } from '../registry/manifests.ts';
import { MemoryDriver } from '../storage/drivers/memory.ts';
import { blobDataPath } from '../storage/paths.ts';
import { asSystem, systemCause, systemRequest, SYSTEM_ACTORS, type EventContext } from './context.ts';
import { causedBy, emittingDecorator, storesCausedBy } from './emitting-stores.ts';
import type { RegistryEvent } from './event.ts';
import { QueueSink } from './sink.ts';
import { REQUEST, SOURCE, endpoints, tempStore, type TempStore } from './test-support.ts';
import { configSchema } from '../config/schema.ts';
import { createProxy } from '../proxy/index.ts';

const INDEX = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }));
const URLS = { manifest: (r: string, d: string) => `https://reg.test/v2/${r}/manifests/${d}`, blob: (r: string, d: string) => `https://reg.test/v2/${r}/blobs/${d}` };
const ALICE: EventContext = { request: () => ({ ...REQUEST, actor: 'alice' }), urls: URLS };

describe('emitting stores', () => {
  let store: TempStore;
  let driver: MemoryDriver;
  /** Arguments each manifest delete received below the decorator. */
  let deletes: unknown[][];

  function registry(): Registry {
    const sink = new QueueSink({ queue: store.queue, endpoints: endpoints([{ name: 'all', url: 'http://127.0.0.1:1/' }]), source: SOURCE, log: pino({ level: 'silent' }) });
    // Below the decorator, a store whose delete takes a condition, as garbage collection's: 'refuse' fails it (it throws, as the real one does).
    const conditional = (manifests: ManifestStore): ManifestStore =>
      new Proxy(manifests, {
        get(target, p) {
          if (p === 'delete') {
            return async (...args: unknown[]) => {
              deletes.push(args);
              if (args[2] === 'refuse') throw new ManifestUnknownError(String(args[1]));
              return target.delete(String(args[0]), String(args[1]));
            };
          }
          const value: unknown = Reflect.get(target, p);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    const decorate = emittingDecorator(sink, (local) => ({ blobs: local.blobs, manifests: conditional(local.manifests) }));
    return new Registry({ driver, meta: store.meta, deleteEnabled: true, readOnly: false, decorate });
  }

  const queued = async (): Promise<RegistryEvent[]> => (await store.queue.list()).map((d) => d.event);
  const summary = (e: RegistryEvent) =>
    [e.action, `${e.target.repository}${e.target.tag ? `:${e.target.tag}` : ''}`, e.target.digest, e.actor.name ?? '-'].filter((w) => w !== undefined).join(' ');

  beforeEach(async () => {
    store = await tempStore();
    driver = new MemoryDriver();
    deletes = [];
  });
  afterEach(() => store.cleanup());

  it("gives each change its cause: the bound request's, asSystem()'s actor, or berth when unbound", async () => {
    const reg = registry();
    const digest = digestOf(INDEX);
    const alice = causedBy(reg.manifests, ALICE);
    await alice.put('r/app', 'v1', INDEX, OCI_INDEX);
    await alice.getAccepted('r/app', 'v1', new Set());
    await asSystem(SYSTEM_ACTORS.gc, () => reg.manifests.delete('r/app', 'v1'));
    await reg.manifests.delete('r/app', digest);
    const events = await queued();
    assert.deepEqual(events.map(summary), [`push r/app:v1 ${digest} alice`, `pull r/app:v1 ${digest} alice`, 'delete r/app:v1 berth-gc', `delete r/app ${digest} berth`]);
    const [push, , gc, outside] = events;
    assert.deepEqual(push?.target, { mediaType: OCI_INDEX, size: INDEX.length, digest, length: INDEX.length, repository: 'r/app', url: URLS.manifest('r/app', digest), tag: 'v1' });
    assert.deepEqual(push?.request, REQUEST);
    const { actor: _, ...record } = systemRequest(SYSTEM_ACTORS.gc);
    assert.deepEqual(gc?.request, record, 'no client');
    assert.deepEqual(outside?.actor, { name: SYSTEM_ACTORS.system });
  });

  it('asSystem() names the calls made at once, not those after an await, nor a bound store', async () => {
    const reg = registry();
    const { digest } = await causedBy(reg.manifests, systemCause(SYSTEM_ACTORS.cli)).put('r/app', 'v1', INDEX, OCI_INDEX);
    await asSystem(SYSTEM_ACTORS.retention, async () => {
      await causedBy(reg.manifests, ALICE).delete('r/app', 'v1');
      await reg.manifests.delete('r/app', digest);
    });
    assert.deepEqual((await queued()).map(summary), [`push r/app:v1 ${digest} berth-cli`, 'delete r/app:v1 alice', `delete r/app ${digest} berth`]);
  });

  it('passes every argument of a delete through and emits only once it happened', async () => {
    const reg = registry();
    const { digest } = await reg.manifests.put('r/app', 'v1', INDEX, OCI_INDEX);
    const del = reg.manifests.delete.bind(reg.manifests) as (...args: unknown[]) => Promise<unknown>;
    await assert.rejects(del('r/app', digest, 'refuse'), ManifestUnknownError, 'the condition failed: nothing deleted');
    await assert.rejects(del('r/app', digestOf(Buffer.from('none')), 'go'), ManifestUnknownError);
    await del('r/app', digest, 'go');
    assert.deepEqual(deletes, [['r/app', digest, 'refuse'], ['r/app', digestOf(Buffer.from('none')), 'go'], ['r/app', digest, 'go']]);
    assert.deepEqual((await queued()).map(summary), [`push r/app:v1 ${digest} berth`, `delete r/app ${digest} berth`]);
  });

  it("passes garbage collection's condition through the mirror's decoration, and emits nothing when it fails", async () => {
    const proxy = configSchema.parse({ proxy: { upstreams: [{ name: 'up', prefix: 'mirrored/', url: 'http://127.0.0.1:1' }] } }).proxy;
    assert.ok(proxy);
    const mirror = createProxy(proxy, { log: pino({ level: 'silent' }) });
    const sink = new QueueSink({ queue: store.queue, endpoints: endpoints([{ name: 'all', url: 'http://127.0.0.1:1/' }]), source: SOURCE, log: pino({ level: 'silent' }) });
    const reg = new Registry({ driver, meta: store.meta, deleteEnabled: true, readOnly: false, decorate: emittingDecorator(sink, mirror.decorate) });
    const { digest } = await reg.manifests.put('r/app', 'v1', INDEX, OCI_INDEX);
    // Tagged: garbage collection's rules keep it, so the conditional delete must not happen.
    await assert.rejects(reg.manifests.delete('r/app', digest, { collectable: { now: Date.now() + 1000, graceMs: 0, untagged: 'delete' } }), ManifestUnknownError);
    assert.equal((await reg.manifests.stat('r/app', 'v1')).digest, digest);
    assert.deepEqual((await queued()).map(summary), [`push r/app:v1 ${digest} berth`]);
    mirror.close();
  });

  it('emits a blob pull only for a record its stat returned, a mount only when mounted, and deletes', async () => {
    const reg = registry();
    const data = Buffer.from('layer');
    const digest = digestOf(data);
    await driver.putContent(blobDataPath('sha256', digest.slice(7)), data);
    await store.meta.linkBlob('r/src', { digest, size: data.length });
    const { blobs } = storesCausedBy(reg, ALICE);
    const blob = await blobs.stat('r/src', digest);
    (await blobs.open(blob)).stream.resume();
    (await blobs.open({ digest, size: data.length })).stream.resume();
    assert.equal(await blobs.mount('r/dst', digestOf(Buffer.from('absent')), 'r/src'), undefined);
    assert.ok(await blobs.mount('r/dst', digest, 'r/src'));
    await blobs.delete('r/dst', digest);
    const events = await queued();
    assert.deepEqual(events.map(summary), [`pull r/src ${digest} alice`, `mount r/dst ${digest} alice`, `delete r/dst ${digest} alice`]);
    assert.equal(events[0]?.target.url, URLS.blob('r/src', digest));
    assert.equal(events[1]?.target.fromRepository, 'r/src');
  });
});
