/** Metrics: values in the exposition text after known calls, and a registry of its own. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { register as globalRegistry } from 'prom-client';
import { Metrics } from './metrics.ts';
import { sampleValue } from './test-support.ts';

const request = { route: 'blob', method: 'GET', status: 200, seconds: 0.003, bytesIn: 0, bytesOut: 1000 };

describe('Metrics', () => {
  it('counts requests by route, method and status, with latency histograms and bytes', async () => {
    const m = new Metrics({ processMetrics: false });
    m.observeRequest(request);
    m.observeRequest({ ...request, seconds: 2, bytesOut: 24 });
    m.observeRequest({ ...request, status: 404, bytesOut: 0 });
    m.observeRequest({ route: 'upload', method: 'PATCH', status: 202, seconds: 0.5, bytesIn: 4096, bytesOut: 0 });
    m.observeRequest({ route: 'base', method: 'BREW', status: 405, seconds: 0.0001, bytesIn: 0, bytesOut: 0 });
    const { body } = await m.render();

    assert.equal(sampleValue(body, 'berth_http_requests_total', { route: 'blob', method: 'GET', status: '200' }), 2);
    assert.equal(sampleValue(body, 'berth_http_requests_total', { route: 'blob', method: 'GET', status: '404' }), 1);
    assert.equal(sampleValue(body, 'berth_http_requests_total', { route: 'upload', method: 'PATCH', status: '202' }), 1);
    assert.equal(sampleValue(body, 'berth_http_requests_total', { route: 'base', method: 'OTHER', status: '405' }), 1, 'unknown methods are folded');
    assert.equal(sampleValue(body, 'berth_http_request_duration_seconds_count', { route: 'blob', method: 'GET' }), 3);
    assert.equal(sampleValue(body, 'berth_http_request_duration_seconds_bucket', { route: 'blob', method: 'GET', le: '0.005' }), 2);
    assert.equal(sampleValue(body, 'berth_http_request_duration_seconds_bucket', { route: 'blob', method: 'GET', le: '0.0001' }), 0);
    assert.equal(sampleValue(body, 'berth_http_request_duration_seconds_bucket', { route: 'blob', method: 'GET', le: '10' }), 3);
    const sum = sampleValue(body, 'berth_http_request_duration_seconds_sum', { route: 'blob', method: 'GET' }) ?? NaN;
    assert.ok(Math.abs(sum - 2.006) < 1e-9, `sum ${sum}`);
    assert.equal(sampleValue(body, 'berth_http_response_bytes_total', { route: 'blob' }), 1024);
    assert.equal(sampleValue(body, 'berth_http_request_bytes_total', { route: 'upload' }), 4096);
    assert.equal(sampleValue(body, 'berth_http_request_bytes_total', { route: 'blob' }), undefined);
  });

  it('keeps counting across scrapes (batched counters add to the totals, never reset them)', async () => {
    const m = new Metrics({ processMetrics: false });
    const total = async (): Promise<number | undefined> =>
      sampleValue((await m.render()).body, 'berth_http_requests_total', { route: 'blob', method: 'GET', status: '200' });
    assert.equal(await total(), undefined);
    m.observeRequest(request);
    assert.equal(await total(), 1);
    assert.equal(await total(), 1, 'a scrape changes nothing');
    m.observeRequest(request);
    m.observeRequest(request);
    assert.equal(await total(), 3);
    m.cacheLookup('links', true);
    assert.equal(sampleValue((await m.render()).body, 'berth_cache_requests_total', { cache: 'links', result: 'hit' }), 1);
    m.cacheLookup('links', true);
    assert.equal(sampleValue((await m.render()).body, 'berth_cache_requests_total', { cache: 'links', result: 'hit' }), 2);
  });

  it('tracks uploads in progress, cache hits and misses, auth failures, storage and meta operations', async () => {
    const m = new Metrics({ processMetrics: false });
    m.uploadStarted();
    m.uploadStarted();
    m.uploadStarted();
    m.uploadEnded();
    m.cacheLookup('manifests', true);
    m.cacheLookup('manifests', true);
    m.cacheLookup('manifests', false);
    m.cacheLookup('links', false);
    m.authFailure();
    m.observeStorage('filesystem', 'stat', 0.001);
    m.observeStorage('filesystem', 'stat', 0.002, 'BERTH_PATH_NOT_FOUND');
    m.observeMeta('getBlob', 0.0002);
    const { body } = await m.render();

    assert.equal(sampleValue(body, 'berth_uploads_in_progress'), 2);
    assert.equal(sampleValue(body, 'berth_cache_requests_total', { cache: 'manifests', result: 'hit' }), 2);
    assert.equal(sampleValue(body, 'berth_cache_requests_total', { cache: 'manifests', result: 'miss' }), 1);
    assert.equal(sampleValue(body, 'berth_cache_requests_total', { cache: 'links', result: 'miss' }), 1);
    assert.equal(sampleValue(body, 'berth_auth_failures_total'), 1);
    assert.equal(sampleValue(body, 'berth_storage_operation_duration_seconds_count', { driver: 'filesystem', operation: 'stat' }), 2);
    assert.equal(sampleValue(body, 'berth_storage_errors_total', { driver: 'filesystem', operation: 'stat', code: 'BERTH_PATH_NOT_FOUND' }), 1);
    assert.equal(sampleValue(body, 'berth_meta_operation_duration_seconds_count', { operation: 'getBlob' }), 1);
  });

  it('renders Prometheus text with Node process metrics, in a registry of its own', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.authFailure();
    const rendered = await a.render();
    assert.match(rendered.contentType, /^text\/plain; version=0\.0\.4/);
    assert.ok(sampleValue(rendered.body, 'process_cpu_user_seconds_total') !== undefined, 'process metrics are collected');
    assert.ok(sampleValue(rendered.body, 'nodejs_eventloop_lag_seconds') !== undefined);
    assert.equal(sampleValue((await b.render()).body, 'berth_auth_failures_total'), 0, 'instances do not share counters');
    assert.equal(globalRegistry.getSingleMetric('berth_auth_failures_total'), undefined, 'nothing lands in the global registry');
    assert.equal(sampleValue((await new Metrics({ processMetrics: false }).render()).body, 'process_cpu_user_seconds_total'), undefined);
  });
});
