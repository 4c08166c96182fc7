/**
 * ONE behavioural suite for every EventQueue implementation (SQLite, PostgreSQL): each
 * implementation's test calls runEventQueueConformance with a factory for an empty queue that
 * records its times (createdAt, the first nextAttemptAt) from the clock it is given, and a peer:
 * another node's queue on the same database (its own connection and holder), for the leases.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Delivery, EventQueue } from './queue.ts';
import { event } from './test-events.ts';

export interface EventQueueFixture {
  queue: EventQueue;
  /** Another node's queue on the same database, with the same clock and lease. */
  peer: EventQueue;
  /** How long the queues' claims are leased. */
  leaseMs: number;
  cleanup: () => Promise<void>;
}

const T0 = 1_000_000;
const tags = (ds: readonly Delivery[]) => ds.map((d) => d.event.target.tag);
const ids = (ds: readonly Delivery[]) => ds.map((d) => d.id);

export function runEventQueueConformance(name: string, make: (now: () => number) => Promise<EventQueueFixture>): void {
  describe(`event queue conformance: ${name}`, () => {
    let f: EventQueueFixture;
    let queue: EventQueue;
    let peer: EventQueue;
    let lease: number;
    /** The queue's clock. */
    let time: number;
    beforeEach(async () => {
      time = T0;
      f = await make(() => time);
      queue = f.queue;
      peer = f.peer;
      lease = f.leaseMs;
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
      assert.deepEqual(tags((await queue.claim('a', 10, T0)).deliveries), ['v1', 'v2', 'v3', 'v4'], 'claiming again from the same queue is not consuming');
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

    it("leases a claim: another node gets none of the endpoint's deliveries until the lease ends, then takes them over", async () => {
      await queue.enqueue([1, 2, 3].map((n) => ({ endpoint: 'a', event: event(n) })));
      await queue.enqueue([{ endpoint: 'b', event: event(9) }]);
      assert.deepEqual(tags((await queue.claim('a', 2, T0)).deliveries), ['v1', 'v2']);
      assert.deepEqual(await peer.claim('a', 10, T0), { deliveries: [], nextDueAt: T0 + lease }, 'not v3 either: it would overtake v1 and v2');
      assert.deepEqual(tags((await peer.claim('b', 10, T0)).deliveries), ['v9'], 'other endpoints go on');
      assert.deepEqual(await peer.claim('a', 10, T0 + lease - 1), { deliveries: [], nextDueAt: T0 + lease });
      assert.deepEqual(tags((await peer.claim('a', 10, T0 + lease)).deliveries), ['v1', 'v2', 'v3'], "a dead node's batch comes back");
      assert.deepEqual(await queue.claim('a', 10, T0 + lease), { deliveries: [], nextDueAt: T0 + 2 * lease }, 'now the peer holds it');
    });

    it('renews the lease when the same queue claims its batch again', async () => {
      await queue.enqueue([1, 2].map((n) => ({ endpoint: 'a', event: event(n) })));
      const first = await queue.claim('a', 10, T0);
      assert.deepEqual(ids((await queue.claim('a', 10, T0 + lease - 1)).deliveries), ids(first.deliveries));
      assert.deepEqual(await peer.claim('a', 10, T0 + lease), { deliveries: [], nextDueAt: T0 + 2 * lease - 1 });
    });

    it('ends the lease when the batch is marked: delivered ones are gone, failed ones go from any node when due', async () => {
      await queue.enqueue([1, 2, 3].map((n) => ({ endpoint: 'a', event: event(n) })));
      const [v1, v2] = (await queue.claim('a', 2, T0)).deliveries;
      assert.ok(v1 && v2);
      await queue.markDelivered([v1.id], T0 + 1);
      await queue.markFailed([v2.id], 'HTTP 500', T0 + 100);
      assert.deepEqual(await peer.claim('a', 10, T0 + 99), { deliveries: [], nextDueAt: T0 + 100 });
      const retry = await peer.claim('a', 10, T0 + 100);
      assert.deepEqual(retry.deliveries.map((d) => [d.event.target.tag, d.attempts]), [['v2', 1], ['v3', 0]]);
      assert.deepEqual(await queue.claim('a', 10, T0 + 100), { deliveries: [], nextDueAt: T0 + 100 + lease });
    });

    it("counts a late failure from a node whose lease ran out, but leaves the new holder's lease", async () => {
      await queue.enqueue([{ endpoint: 'a', event: event(1) }]);
      await queue.claim('a', 10, T0);
      const [taken] = (await peer.claim('a', 10, T0 + lease)).deliveries;
      assert.ok(taken);
      await queue.markFailed([taken.id], 'timed out', T0 + lease + 1);
      assert.deepEqual(await queue.claim('a', 10, T0 + lease + 1), { deliveries: [], nextDueAt: T0 + 2 * lease });
      assert.deepEqual((await peer.claim('a', 10, T0 + lease + 1)).deliveries.map((d) => [d.id, d.attempts]), [[taken.id, 1]]);
    });

    it("gives an endpoint's head to one of two nodes claiming at once", async () => {
      const endpoints = ['a', 'b', 'c', 'd', 'e', 'f'];
      for (const endpoint of endpoints) await queue.enqueue([1, 2, 3].map((n) => ({ endpoint, event: event(n) })));
      const claims = await Promise.all(endpoints.map((e) => Promise.all([queue.claim(e, 10, T0), peer.claim(e, 10, T0)])));
      for (const [mine, theirs] of claims) {
        const winner = mine.deliveries.length > 0 ? mine : theirs;
        const loser = winner === mine ? theirs : mine;
        assert.deepEqual(tags(winner.deliveries), ['v1', 'v2', 'v3']);
        assert.deepEqual(loser, { deliveries: [], nextDueAt: T0 + lease });
      }
    });
  });
}
