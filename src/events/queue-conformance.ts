/**
 * ONE behavioural suite for every EventQueue implementation (SQLite now, PostgreSQL later): each
 * implementation's test calls runEventQueueConformance with a factory for an empty queue that
 * records its times (createdAt, the first nextAttemptAt) from the clock it is given.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Delivery, EventQueue } from './queue.ts';
import { event } from './test-support.ts';

export interface EventQueueFixture {
  queue: EventQueue;
  cleanup: () => Promise<void>;
}

const T0 = 1_000_000;
const tags = (ds: readonly Delivery[]) => ds.map((d) => d.event.target.tag);
const ids = (ds: readonly Delivery[]) => ds.map((d) => d.id);

export function runEventQueueConformance(name: string, make: (now: () => number) => Promise<EventQueueFixture>): void {
  describe(`event queue conformance: ${name}`, () => {
    let f: EventQueueFixture;
    let queue: EventQueue;
    /** The queue's clock. */
    let time: number;
    beforeEach(async () => {
      time = T0;
      f = await make(() => time);
      queue = f.queue;
    });
    afterEach(() => f.cleanup());

    it('is empty at first; enqueuing nothing changes nothing', async () => {
      await queue.enqueue([]);
      assert.deepEqual(await queue.claim('a', 10, T0), { deliveries: [] });
      assert.deepEqual(await queue.list(), []);
      assert.deepEqual(await queue.backlog(), []);
      assert.equal(await queue.prune(T0 + 1), 0);
    });

    it('keeps each event whole, with its enqueue time, no attempt and no error', async () => {
      const e = event(1, 'pull', { url: 'http://registry.test/v2/team/app/manifests/v1' });
      await queue.enqueue([{ endpoint: 'a', event: e }, { endpoint: 'b', event: e }]);
      const [a, b] = await queue.list();
      assert.ok(a && b);
      assert.deepEqual({ ...a, id: 0 }, { id: 0, endpoint: 'a', event: e, attempts: 0, nextAttemptAt: T0, lastError: null, createdAt: T0 });
      assert.equal(b.endpoint, 'b');
      assert.ok(b.id > a.id, 'ids grow in enqueue order');
    });

    it("claims the head of one endpoint's queue in order, at most `limit`, apart from other endpoints", async () => {
      await queue.enqueue([1, 2, 3].map((n) => ({ endpoint: 'a', event: event(n) })));
      await queue.enqueue([{ endpoint: 'b', event: event(9) }]);
      await queue.enqueue([{ endpoint: 'a', event: event(4) }]);
      assert.deepEqual(tags((await queue.claim('a', 2, T0)).deliveries), ['v1', 'v2']);
      assert.deepEqual(tags((await queue.claim('a', 10, T0)).deliveries), ['v1', 'v2', 'v3', 'v4'], 'claiming is not consuming');
      assert.deepEqual(tags((await queue.claim('b', 10, T0)).deliveries), ['v9']);
      assert.deepEqual(await queue.claim('c', 10, T0), { deliveries: [] });
    });

    it('holds a failed head until its retry is due, and says when; other endpoints go on', async () => {
      await queue.enqueue([1, 2, 3].map((n) => ({ endpoint: 'a', event: event(n) })));
      await queue.enqueue([{ endpoint: 'b', event: event(9) }]);
      const first = await queue.claim('a', 2, T0);
      await queue.markFailed(ids(first.deliveries), 'HTTP 500', T0 + 60_000);
      assert.deepEqual(await queue.claim('a', 10, T0 + 59_999), { deliveries: [], nextDueAt: T0 + 60_000 }, 'v3 waits behind v1');
      assert.deepEqual(tags((await queue.claim('b', 10, T0)).deliveries), ['v9']);
      const due = await queue.claim('a', 10, T0 + 60_000);
      assert.deepEqual(due.deliveries.map((d) => [d.event.target.tag, d.attempts, d.lastError, d.nextAttemptAt]), [
        ['v1', 1, 'HTTP 500', T0 + 60_000],
        ['v2', 1, 'HTTP 500', T0 + 60_000],
        ['v3', 0, null, T0],
      ]);
    });

    it('ends a batch at the first delivery not yet due, so order is kept', async () => {
      await queue.enqueue([1, 2, 3].map((n) => ({ endpoint: 'a', event: event(n) })));
      const [, second] = (await queue.claim('a', 10, T0)).deliveries;
      assert.ok(second);
      await queue.markFailed([second.id], 'timeout', T0 + 1_000);
      assert.deepEqual(tags((await queue.claim('a', 10, T0)).deliveries), ['v1']);
      assert.deepEqual(tags((await queue.claim('a', 10, T0 + 1_000)).deliveries), ['v1', 'v2', 'v3']);
    });

    it('counts every failed attempt and keeps the last error and retry time', async () => {
      await queue.enqueue([{ endpoint: 'a', event: event(1) }]);
      const [d] = await queue.list();
      assert.ok(d);
      await queue.markFailed([d.id], 'HTTP 502', T0 + 10);
      await queue.markFailed([d.id], 'connection refused', T0 + 30);
      await queue.markFailed([d.id], 'HTTP 503', T0 + 70);
      const [after] = await queue.list();
      assert.deepEqual([after?.attempts, after?.lastError, after?.nextAttemptAt, after?.createdAt], [3, 'HTTP 503', T0 + 70, T0]);
    });

    it('lists undelivered deliveries oldest first, by state and with a limit', async () => {
      await queue.enqueue([1, 2, 3].map((n) => ({ endpoint: 'a', event: event(n) })));
      await queue.enqueue([{ endpoint: 'b', event: event(9) }]);
      const [v1, v2] = await queue.list();
      assert.ok(v1 && v2);
      await queue.markFailed([v1.id, v2.id], 'HTTP 500', T0 + 60_000);
      assert.deepEqual(tags(await queue.list()), ['v1', 'v2', 'v3', 'v9']);
      assert.deepEqual(tags(await queue.list({ state: 'failed' })), ['v1', 'v2']);
      assert.deepEqual(tags(await queue.list({ state: 'pending' })), ['v3', 'v9']);
      assert.deepEqual(tags(await queue.list({ limit: 3 })), ['v1', 'v2', 'v3']);
      assert.deepEqual(tags(await queue.list({ state: 'pending', limit: 1 })), ['v3']);
      assert.deepEqual(await queue.list({ limit: 0 }), []);
    });

    it("gives each endpoint's backlog: pending, failed, the oldest undelivered event and the latest error", async () => {
      await queue.enqueue([1, 2].map((n) => ({ endpoint: 'b', event: event(n) })));
      time = T0 + 5;
      await queue.enqueue([3, 4, 5].map((n) => ({ endpoint: 'a', event: event(n) })));
      const [v3, v4] = (await queue.claim('a', 2, time)).deliveries;
      assert.ok(v3 && v4);
      await queue.markFailed([v3.id], 'first error', T0 + 100);
      await queue.markFailed([v4.id], 'second error', T0 + 100);
      await queue.markDelivered(ids((await queue.claim('b', 1, time)).deliveries), time);
      assert.deepEqual(await queue.backlog(), [
        { endpoint: 'a', pending: 1, failed: 2, oldestCreatedAt: T0 + 5, lastError: 'second error' },
        { endpoint: 'b', pending: 1, failed: 0, oldestCreatedAt: T0, lastError: null },
      ]);
    });

    it('forgets a delivered delivery: not claimed, listed or counted again, and a late failure does not bring it back', async () => {
      await queue.enqueue([1, 2].map((n) => ({ endpoint: 'a', event: event(n) })));
      const [v1] = (await queue.claim('a', 1, T0)).deliveries;
      assert.ok(v1);
      await queue.markDelivered([v1.id], T0);
      await queue.markFailed([v1.id], 'too late', T0 + 60_000);
      assert.deepEqual(tags((await queue.claim('a', 10, T0)).deliveries), ['v2']);
      assert.deepEqual(tags(await queue.list()), ['v2']);
      assert.deepEqual(await queue.list({ state: 'failed' }), []);
      assert.deepEqual(await queue.backlog(), [{ endpoint: 'a', pending: 1, failed: 0, oldestCreatedAt: T0, lastError: null }]);
    });

    it('prunes only deliveries delivered before the given time, and says how many', async () => {
      await queue.enqueue([1, 2, 3, 4].map((n) => ({ endpoint: 'a', event: event(n) })));
      const [v1, v2, v3] = (await queue.claim('a', 3, T0)).deliveries;
      assert.ok(v1 && v2 && v3);
      await queue.markDelivered([v1.id, v2.id], T0 + 10);
      await queue.markDelivered([v3.id], T0 + 20);
      assert.equal(await queue.prune(T0 + 10), 0, 'kept for the retention period');
      assert.equal(await queue.prune(T0 + 11), 2);
      assert.equal(await queue.prune(T0 + 11), 0);
      assert.equal(await queue.prune(T0 + 1_000), 1);
      assert.deepEqual(tags(await queue.list()), ['v4'], 'undelivered ones stay, however old');
    });
  });
}
