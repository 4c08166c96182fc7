/** /healthz, /readyz and /metrics as the composed server answers them, after known requests. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useTestRegistry } from '../helpers/inproc.ts';
import { configSchema } from '../../src/config/schema.ts';
import { TestReceiver } from '../../src/events/test-receiver.ts';

function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (want.every((l) => line.includes(l))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('operations endpoints', () => {
  const t = useTestRegistry();

  it('answers liveness and readiness', async () => {
    const live = await t.client.fetch('/healthz');
    assert.equal(live.status, 200);
    assert.deepEqual(await live.json(), { status: 'ok' });
    const ready = await t.client.fetch('/readyz');
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { status: string; checks: { name: string; ok: boolean }[] };
    assert.equal(body.status, 'ok');
    assert.ok(body.checks.length >= 2 && body.checks.every((c) => c.ok));
  });

  it('counts requests by route and status, cache lookups, and uploads', async () => {
    const img = await t.client.pushImage('ops/app', 'v1');
    for (let i = 0; i < 3; i++) assert.equal((await t.client.fetch('/v2/ops/app/manifests/v1')).status, 200);
    assert.equal((await t.client.fetch('/v2/ops/app/manifests/nope')).status, 404);
    assert.equal((await t.client.fetch(`/v2/ops/app/blobs/${img.layer.digest}`, { method: 'HEAD' })).status, 200);
    // The web UI's pages are counted as 'ui', not as 'unknown' (npm test builds the UI first).
    const page = await t.client.fetch('/search', { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    await page.arrayBuffer();
    const res = await t.client.fetch('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    assert.equal(sample(text, 'berth_http_requests_total', { route: 'manifest', method: 'GET', status: '200' }), 3);
    assert.equal(sample(text, 'berth_http_requests_total', { route: 'manifest', method: 'GET', status: '404' }), 1);
    assert.equal(sample(text, 'berth_http_requests_total', { route: 'manifest', method: 'PUT', status: '201' }), 1);
    assert.equal(sample(text, 'berth_http_requests_total', { route: 'ui', method: 'GET', status: '200' }), 1);
    assert.equal(sample(text, 'berth_http_requests_total', { route: 'unknown', method: 'GET', status: '200' }), undefined);
    assert.ok((sample(text, 'berth_cache_requests_total', { cache: 'manifest-records', result: 'hit' }) ?? 0) >= 2);
    assert.equal(sample(text, 'berth_uploads_in_progress', {}), 0);
    assert.ok((sample(text, 'berth_storage_operation_duration_seconds_count', { operation: 'putContent' }) ?? 0) >= 1);
  });

  it('lists notification deliveries as JSON, and picks up endpoints on reload', async () => {
    const empty = await t.client.fetch('/api/v1/events');
    assert.equal(empty.status, 200);
    assert.deepEqual(await empty.json(), { endpoints: [], deliveries: [] });

    const receiver = await TestReceiver.start();
    try {
      const running = t.reg.running;
      const next = configSchema.parse({
        http: { addr: '127.0.0.1:0' },
        log: { level: 'warn' },
        storage: { inmemory: {} },
        notifications: { endpoints: [{ name: 'hook', url: receiver.url, backoff: '10ms' }] },
      });
      await running.reload(next);
      await t.client.pushImage('ops/hooked', 'v1');
      await receiver.waitFor('the push events', () => receiver.accepted.some((e) => e.action === 'push' && e.target.repository === 'ops/hooked'));
    } finally {
      await receiver.down();
    }
  });
});
