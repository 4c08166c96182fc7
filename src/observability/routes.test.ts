/**
 * The operational endpoints over real node:http servers on 127.0.0.1:0: opsHandler in front of
 * a stand-in for the registry's routes (reporting every exchange to Metrics, as the server's
 * request observers do), and the debug server alone.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { MemoryDriver } from '../storage/drivers/memory.ts';
import { withPathValidation } from '../storage/base.ts';
import { HealthChecker, metaCheck, storageCheck } from './health.ts';
import { Metrics } from './metrics.ts';
import { createDebugServer, opsHandler, type OpsOptions } from './routes.ts';
import { sampleValue } from './test-support.ts';

async function listen(t: TestContext, server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function healthChecker(pingError?: Error): HealthChecker {
  const ping = async (): Promise<void> => {
    if (pingError !== undefined) throw pingError;
  };
  return new HealthChecker([storageCheck(withPathValidation(new MemoryDriver())), metaCheck({ ping })]);
}

/** opsHandler in front of a fallback that reads the body and answers 404, as the registry would. */
async function mainServer(t: TestContext, opts: OpsOptions): Promise<{ base: string; fallthrough: string[] }> {
  const ops = opsHandler(opts);
  const fallthrough: string[] = [];
  const server = http.createServer((req, res) => {
    const { metrics } = opts;
    const started = performance.now();
    res.once('close', () =>
      metrics?.observeRequest({
        route: 'fallback',
        method: req.method ?? 'GET',
        status: res.statusCode,
        seconds: (performance.now() - started) / 1000,
        bytesIn: Number(req.headers['content-length'] ?? 0),
        bytesOut: 0,
      }),
    );
    if (ops(req, res)) return;
    fallthrough.push(`${req.method} ${req.url}`);
    req.resume().on('end', () => {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"errors":[{"code":"NOT_FOUND"}]}');
    });
  });
  return { base: await listen(t, server), fallthrough };
}

describe('opsHandler', () => {
  it('answers /healthz, /readyz and the metrics path, and leaves every other path to the registry', async (t) => {
    const metrics = new Metrics({ processMetrics: false });
    const { base, fallthrough } = await mainServer(t, { metrics, health: healthChecker(), metricsPath: '/metrics' });

    const healthz = await fetch(`${base}/healthz`);
    assert.equal(healthz.status, 200);
    assert.equal(healthz.headers.get('content-type'), 'application/json');
    assert.deepEqual(await healthz.json(), { status: 'ok' });
    const head = await fetch(`${base}/healthz`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');

    const readyz = await fetch(`${base}/readyz`);
    assert.equal(readyz.status, 200);
    const ready = (await readyz.json()) as { status: string; checks: { name: string; ok: boolean }[] };
    assert.equal(ready.status, 'ok');
    assert.deepEqual(
      ready.checks.map((c) => [c.name, c.ok]),
      [
        ['storage', true],
        ['meta', true],
      ],
    );

    assert.equal((await fetch(`${base}/v2/`)).status, 404);
    assert.equal((await fetch(`${base}/healthz/more`)).status, 404);
    const post = await fetch(`${base}/v2/x/blobs/uploads/`, { method: 'POST', body: 'hello' });
    assert.equal(post.status, 404);
    assert.deepEqual(fallthrough, ['GET /v2/', 'GET /healthz/more', 'POST /v2/x/blobs/uploads/']);

    const wrongMethod = await fetch(`${base}/readyz`, { method: 'DELETE' });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'GET, HEAD');

    const scrape = await fetch(`${base}/metrics?name[]=x`);
    assert.equal(scrape.status, 200);
    assert.match(scrape.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const body = await scrape.text();
    assert.equal(sampleValue(body, 'berth_http_requests_total', { route: 'fallback', method: 'GET', status: '200' }), 2, 'healthz and readyz (not this scrape, in flight)');
    assert.equal(sampleValue(body, 'berth_http_requests_total', { route: 'fallback', method: 'HEAD', status: '200' }), 1);
    assert.equal(sampleValue(body, 'berth_http_requests_total', { route: 'fallback', method: 'GET', status: '404' }), 2);
    assert.equal(sampleValue(body, 'berth_http_requests_total', { route: 'fallback', method: 'POST', status: '404' }), 1);
    assert.equal(sampleValue(body, 'berth_http_requests_total', { route: 'fallback', method: 'DELETE', status: '405' }), 1);
    assert.equal(sampleValue(body, 'berth_http_request_duration_seconds_count', { route: 'fallback', method: 'GET' }), 4);
    assert.equal(sampleValue(body, 'berth_http_request_bytes_total', { route: 'fallback' }), 5);
  });

  it('answers 503 with the failing check when the meta store does not answer', async (t) => {
    const { base } = await mainServer(t, { health: healthChecker(new Error('meta store closed')), metricsPath: '/metrics' });
    const readyz = await fetch(`${base}/readyz`);
    assert.equal(readyz.status, 503);
    const body = (await readyz.json()) as { status: string; checks: { name: string; ok: boolean; error?: string }[] };
    assert.equal(body.status, 'unavailable');
    assert.deepEqual(body.checks.find((c) => c.name === 'meta')?.error, 'meta store closed');
    assert.equal((await fetch(`${base}/healthz`)).status, 200, 'liveness does not depend on readiness');
  });

  it('leaves the metrics path to the registry when metrics are off, and serves a custom path when on', async (t) => {
    const off = await mainServer(t, { health: healthChecker(), metricsPath: '/metrics' });
    assert.equal((await fetch(`${off.base}/metrics`)).status, 404);
    assert.deepEqual(off.fallthrough, ['GET /metrics']);

    const on = await mainServer(t, { metrics: new Metrics({ processMetrics: false }), health: healthChecker(), metricsPath: '/internal/prom' });
    assert.equal((await fetch(`${on.base}/internal/prom`)).status, 200);
    assert.equal((await fetch(`${on.base}/metrics`)).status, 404);
  });
});

describe('createDebugServer', () => {
  it('serves only the operational endpoints', async (t) => {
    const metrics = new Metrics({ processMetrics: false });
    metrics.authFailure();
    const base = await listen(t, createDebugServer(opsHandler({ metrics, health: healthChecker(), metricsPath: '/metrics' })));
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const scrape = await fetch(`${base}/metrics`);
    assert.equal(sampleValue(await scrape.text(), 'berth_auth_failures_total'), 1);
    const other = await fetch(`${base}/v2/`);
    assert.equal(other.status, 404);
    assert.equal(await other.text(), '404 page not found\n');
  });
});
