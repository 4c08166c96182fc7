/** The sink: events as distribution builds them, ignore rules at enqueue time. The queue has its own suite (queue-conformance.ts). */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { BLOB_MEDIA_TYPE } from './event.ts';
import { NoopSink, QueueSink } from './sink.ts';
import { REQUEST, SOURCE, captureLog, endpoints, tempStore, type TempStore } from './test-support.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const digest = (c: string) => `sha256:${c.repeat(64)}`;

describe('event sink', () => {
  let store: TempStore;
  beforeEach(async () => {
    store = await tempStore();
  });
  afterEach(() => store.cleanup());

  function sink(raw: Record<string, unknown>[], includeReferences = false) {
    const woken: string[][] = [];
    const { log, lines } = captureLog();
    const s = new QueueSink({
      queue: store.queue,
      endpoints: endpoints(raw),
      source: SOURCE,
      log,
      includeReferences,
      onEnqueued: (names) => woken.push([...names]),
    });
    return { sink: s, woken, lines };
  }

  const byEndpoint = async () => {
    const out: Record<string, string[]> = {};
    for (const d of await store.queue.list()) (out[d.endpoint] ??= []).push(`${d.event.action} ${d.event.target.mediaType ?? '-'}`);
    return out;
  };

  it("applies each endpoint's ignore rules (ignoredmediatypes, ignore.mediatypes, ignore.actions) when enqueuing", async () => {
    const { sink: s, woken } = sink([
      { name: 'all', url: 'http://127.0.0.1:1/a' },
      { name: 'no-blobs', url: 'http://127.0.0.1:1/b', ignoredmediatypes: [BLOB_MEDIA_TYPE] },
      { name: 'no-pulls', url: 'http://127.0.0.1:1/c', ignore: { mediatypes: [OCI_MANIFEST], actions: ['pull'] } },
      { name: 'off', url: 'http://127.0.0.1:1/d', disabled: true },
    ]);
    const manifest = { repository: 'team/app', digest: digest('a'), mediaType: OCI_MANIFEST, size: 5 };
    await s.manifestPushed(manifest, REQUEST);
    await s.blobPulled({ repository: 'team/app', digest: digest('b'), size: 3 }, REQUEST);
    await s.tagDeleted({ repository: 'team/app', tag: 'v1' }, REQUEST);
    assert.deepEqual(await byEndpoint(), {
      all: [`push ${OCI_MANIFEST}`, `pull ${BLOB_MEDIA_TYPE}`, 'delete -'],
      'no-blobs': [`push ${OCI_MANIFEST}`, 'delete -'],
      'no-pulls': ['delete -'],
    });
    assert.deepEqual(woken, [['all', 'no-blobs'], ['all'], ['all', 'no-blobs', 'no-pulls']]);
  });

  it("builds distribution's targets for each kind of event", async () => {
    const { sink: s } = sink([{ name: 'all', url: 'http://127.0.0.1:1/a' }]);
    const url = 'http://registry.test/v2/team/app/manifests/x';
    await s.manifestPushed({ repository: 'team/app', digest: digest('a'), mediaType: OCI_MANIFEST, size: 5, tag: 'v1', url }, REQUEST);
    await s.manifestPulled({ repository: 'team/app', digest: digest('a'), mediaType: OCI_MANIFEST, size: 5, url }, { ...REQUEST, actor: 'alice' });
    await s.manifestDeleted({ repository: 'team/app', digest: digest('a') }, REQUEST);
    await s.blobPushed({ repository: 'team/app', digest: digest('b'), size: 3, url }, REQUEST);
    await s.blobMounted({ repository: 'team/app', digest: digest('b'), size: 3, fromRepository: 'team/base' }, REQUEST);
    await s.blobDeleted({ repository: 'team/app', digest: digest('b') }, REQUEST);
    await s.tagDeleted({ repository: 'team/app', tag: 'v1' }, REQUEST);
    const events = (await store.queue.list()).map((d) => d.event);
    assert.deepEqual(
      events.map((e) => [e.action, e.target]),
      [
        ['push', { mediaType: OCI_MANIFEST, size: 5, digest: digest('a'), length: 5, repository: 'team/app', url, tag: 'v1' }],
        ['pull', { mediaType: OCI_MANIFEST, size: 5, digest: digest('a'), length: 5, repository: 'team/app', url }],
        ['delete', { repository: 'team/app', digest: digest('a') }],
        ['push', { mediaType: BLOB_MEDIA_TYPE, size: 3, digest: digest('b'), length: 3, repository: 'team/app', url }],
        ['mount', { mediaType: BLOB_MEDIA_TYPE, size: 3, digest: digest('b'), length: 3, repository: 'team/app', fromRepository: 'team/base' }],
        ['delete', { repository: 'team/app', digest: digest('b') }],
        ['delete', { repository: 'team/app', tag: 'v1' }],
      ],
    );
    assert.deepEqual(events[0]?.actor, {});
    assert.deepEqual(events[1]?.actor, { name: 'alice' });
    assert.deepEqual(events[0]?.request, REQUEST);
    assert.deepEqual(events[0]?.source, SOURCE);
    assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'every event has its own id');
    assert.ok(events.every((e) => !Number.isNaN(Date.parse(e.timestamp))));
  });

  it("lists a manifest's references with includereferences", async () => {
    const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest('c'), size: 2 };
    const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digest('d'), size: 7 };
    const content = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] }));
    const target = { repository: 'team/app', digest: digest('a'), mediaType: OCI_MANIFEST, size: content.length, content };
    await sink([{ name: 'with', url: 'http://127.0.0.1:1/a' }], true).sink.manifestPushed(target, REQUEST);
    await sink([{ name: 'without', url: 'http://127.0.0.1:1/a' }], false).sink.manifestPushed(target, REQUEST);
    const [withRefs, withoutRefs] = await store.queue.list();
    assert.deepEqual(withRefs?.event.target.references, [config, layer]);
    assert.equal(withoutRefs?.event.target.references, undefined);
  });

  it('never fails the request: an enqueue error is logged and the call resolves', async () => {
    const { sink: s, lines, woken } = sink([{ name: 'all', url: 'http://127.0.0.1:1/a' }]);
    store.meta.database.exec('DROP TABLE event_deliveries');
    await s.blobPushed({ repository: 'team/app', digest: digest('b'), size: 3 }, REQUEST);
    assert.equal(lines.filter((l) => l.level === 50 && l.msg === 'could not queue a notification event').length, 1);
    assert.deepEqual(woken, []);
  });

  it('NoopSink does nothing', async () => {
    await NoopSink.manifestPushed({ repository: 'r', digest: digest('a'), mediaType: OCI_MANIFEST, size: 1 }, REQUEST);
    await NoopSink.tagDeleted({ repository: 'r', tag: 't' }, REQUEST);
  });
});
