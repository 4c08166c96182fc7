/**
 * The dispatcher against real HTTP receivers on 127.0.0.1:0: the envelope and its headers, the
 * HMAC signature, retries with backoff, an outage longer than the threshold, a timeout, and a
 * restart on the same SQLite file. Nothing may be lost; duplicates only where at-least-once allows.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Dispatcher } from './dispatcher.ts';
import { EVENTS_MEDIA_TYPE, SIGNATURE_HEADER, verifySignature, type Envelope } from './event.ts';
import { TestReceiver } from './test-receiver.ts';
import { captureLog, endpoints, event, tempStore, type TempStore } from './test-support.ts';

describe('notification dispatcher', () => {
  let store: TempStore;
  let receiver: TestReceiver;
  let dispatcher: Dispatcher | undefined;

  beforeEach(async () => {
    store = await tempStore();
    receiver = await TestReceiver.start();
  });

  afterEach(async () => {
    await dispatcher?.stop(100);
    dispatcher = undefined;
    await receiver.down();
    await store.cleanup();
  });

  function start(raw: Record<string, unknown>, opts: { log?: ReturnType<typeof captureLog>['log']; batchSize?: number } = {}): Dispatcher {
    dispatcher = new Dispatcher({
      queue: store.queue,
      endpoints: endpoints([{ name: 'hook', url: receiver.url, ...raw }]),
      log: opts.log ?? captureLog().log,
      batchSize: opts.batchSize ?? 10,
      maxBackoffMs: 200,
      idlePollMs: 50,
    });
    dispatcher.start();
    return dispatcher;
  }

  it("POSTs distribution's envelope with the endpoint's headers, signed with its secret", async () => {
    const events = [event(1), event(2, 'pull')];
    await store.queue.enqueue(events.map((e) => ({ endpoint: 'hook', event: e })));
    start({ headers: { Authorization: ['Bearer token'], 'X-Multi': ['a', 'b'] }, secret: 's3cret' });
    await receiver.waitFor('the batch', () => receiver.accepted.length === 2);

    const [request] = receiver.requests;
    assert.ok(request);
    assert.equal(request.method, 'POST');
    assert.equal(request.headers['content-type'], EVENTS_MEDIA_TYPE);
    assert.equal(request.headers['authorization'], 'Bearer token');
    assert.equal(request.headers['x-multi'], 'a, b');
    const signature = request.headers[SIGNATURE_HEADER.toLowerCase()];
    assert.ok(typeof signature === 'string' && /^sha256=[0-9a-f]{64}$/.test(signature), String(signature));
    assert.ok(verifySignature(request.body, 's3cret', signature));
    assert.ok(!verifySignature(request.body, 'other', signature));
    assert.ok(!verifySignature(`${request.body} `, 's3cret', signature));

    const envelope = JSON.parse(request.body) as Envelope;
    assert.deepEqual(envelope, { events });
    const [first] = envelope.events;
    assert.deepEqual(Object.keys(first ?? {}).sort(), ['action', 'actor', 'id', 'request', 'source', 'target', 'timestamp']);
    assert.deepEqual(first?.request, { id: 'req-1', addr: '127.0.0.1:4000', host: 'registry.test', method: 'PUT', useragent: 'test/1.0' });
    assert.deepEqual(first?.source, { addr: 'node-1:5000', instanceID: 'instance-1' });
    assert.equal(first?.timestamp, '2023-11-14T22:13:20.001Z');

    await receiver.waitFor('the deliveries marked delivered', async () => (await store.queue.list()).length === 0);
  });

  it('sends no signature without a secret, and one event per request with batchSize 1', async () => {
    await store.queue.enqueue([1, 2, 3].map((n) => ({ endpoint: 'hook', event: event(n) })));
    start({}, { batchSize: 1 });
    await receiver.waitFor('three requests', () => receiver.accepted.length === 3);
    assert.equal(receiver.requests.length, 3);
    for (const r of receiver.requests) assert.equal(r.headers[SIGNATURE_HEADER.toLowerCase()], undefined);
    assert.deepEqual(receiver.accepted.map((e) => e.target.tag), ['v1', 'v2', 'v3'], 'in order');
  });

  it('retries with exponential backoff while the receiver answers 500, then delivers everything in order', async () => {
    receiver.behaviour = 'fail';
    const { log, lines } = captureLog();
    start({ backoff: '20ms', threshold: 100 }, { log });
    await store.queue.enqueue([{ endpoint: 'hook', event: event(1) }]);
    dispatcher?.wake(['hook']);
    await receiver.waitFor('four failed attempts', () => lines.filter((l) => l.msg === 'notification delivery failed').length >= 4);
    await store.queue.enqueue([{ endpoint: 'hook', event: event(2) }]);
    dispatcher?.wake(['hook']);

    const [failed] = await store.queue.list({ state: 'failed' });
    assert.ok(failed && failed.attempts >= 4 && failed.lastError === 'HTTP 500', JSON.stringify(failed));
    receiver.behaviour = 'ok';
    await receiver.waitFor('both events', () => receiver.accepted.length >= 2);

    assert.deepEqual(receiver.accepted.map((e) => e.target.tag), ['v1', 'v2'], 'event 2 waited behind event 1');
    const delays = lines.filter((l) => l.msg === 'notification delivery failed').map((l) => Number(l['retryInMs']));
    assert.deepEqual(delays.slice(0, 4), [20, 40, 80, 160], 'doubling from the backoff');
    assert.ok(delays.every((ms) => ms <= 200), 'capped at maxBackoffMs');
    const [a = 0, b = 0, c = 0, d = 0] = receiver.requests.map((r) => r.at);
    // Lower bounds only: a retry may come later than its delay, never sooner.
    assert.ok(b - a >= 19 && c - b >= 39 && d - c >= 79, `retries at +${b - a}, +${c - b}, +${d - c} ms`);
    assert.ok(!lines.some((l) => l.level === 40), 'below the threshold: no warning');
  });

  it('rides out an outage longer than the threshold: warns once, then delivers everything', async () => {
    await receiver.down();
    const { log, lines } = captureLog();
    start({ backoff: '10ms', threshold: 3 }, { log });
    await store.queue.enqueue([1, 2].map((n) => ({ endpoint: 'hook', event: event(n) })));
    dispatcher?.wake();
    await receiver.waitFor('the threshold', () => lines.some((l) => l.level === 40));
    await store.queue.enqueue([3, 4].map((n) => ({ endpoint: 'hook', event: event(n) })));
    await receiver.waitFor('more failures', () => lines.filter((l) => l.msg === 'notification delivery failed').length >= 4);

    const warnings = lines.filter((l) => l.level === 40);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.['endpoint'], 'hook');
    assert.equal(warnings[0]?.['failures'], 3);
    assert.match(String(warnings[0]?.['error']), /ECONNREFUSED/);
    const [backlog] = await store.queue.backlog();
    assert.equal((backlog?.pending ?? 0) + (backlog?.failed ?? 0), 4, 'all four wait');
    assert.match(String(backlog?.lastError), /ECONNREFUSED/);

    await receiver.up();
    await receiver.waitFor('all four', () => receiver.accepted.length >= 4);
    assert.deepEqual(receiver.accepted.map((e) => e.target.tag), ['v1', 'v2', 'v3', 'v4']);
    await receiver.waitFor('the recovery log', () => lines.some((l) => l.msg === 'notification endpoint recovered'));
    assert.deepEqual(await store.queue.list(), []);
  });

  it('counts a receiver that does not answer in time as a failure, and sends again', async () => {
    receiver.behaviour = 'hang';
    start({ timeout: '50ms', backoff: '10ms' });
    await store.queue.enqueue([{ endpoint: 'hook', event: event(1) }]);
    dispatcher?.wake();
    await receiver.waitFor('a recorded timeout', async () => {
      const [failed] = await store.queue.list({ state: 'failed' });
      return failed?.lastError === 'timed out after 50 ms';
    });
    receiver.behaviour = 'ok';
    await receiver.waitFor('the event', () => receiver.accepted.length === 1);
    assert.ok(receiver.requests.length >= 2, 'sent again after the timeout (the duplicate at-least-once allows)');
    assert.equal(receiver.accepted[0]?.target.tag, 'v1');
  });

  it('loses nothing across a restart: the deliveries left in the database go out after reopening it', async () => {
    await receiver.down();
    start({ backoff: '10ms' });
    await store.queue.enqueue([1, 2, 3].map((n) => ({ endpoint: 'hook', event: event(n) })));
    dispatcher?.wake();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await dispatcher?.stop(100);
    dispatcher = undefined;
    assert.ok((await store.queue.list({ state: 'failed' })).length > 0, 'attempts failed before the restart');

    await store.reopen();
    assert.equal((await store.queue.list()).length, 3, 'the deliveries survived closing the database');
    await receiver.up();
    start({ backoff: '10ms' });
    await receiver.waitFor('the events after the restart', () => receiver.accepted.length === 3);
    assert.deepEqual(receiver.accepted.map((e) => e.target.tag), ['v1', 'v2', 'v3']);
  });

  it('stop() waits for an in-flight request up to its deadline, then aborts it and keeps the delivery', async () => {
    receiver.behaviour = 'hang';
    start({ timeout: '10s' });
    await store.queue.enqueue([{ endpoint: 'hook', event: event(1) }]);
    dispatcher?.wake();
    await receiver.waitFor('the request in flight', () => receiver.requests.length === 1);
    await dispatcher?.stop(50);
    dispatcher = undefined;
    const [left] = await store.queue.list();
    assert.equal(left?.attempts, 0, 'an abort at shutdown is not a failed attempt');
  });
});
