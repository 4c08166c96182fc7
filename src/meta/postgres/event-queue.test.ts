/**
 * The PostgreSQL event queue: the shared suite (its peer on a second pool, as another node), and
 * three nodes delivering two endpoints' queues at once: every event goes out once, in order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as yieldToOthers } from 'node:timers/promises';
import { runEventQueueConformance } from '../../events/queue-conformance.ts';
import { event } from '../../events/test-events.ts';
import { PG_SKIP, pgDatabase } from '../../../test/helpers/pg-database.ts';
import { DEFAULT_CLAIM_LEASE_MS } from '../event-claim.ts';
import { PgDatabase } from './database.ts';
import { PgEventQueue } from './event-queue.ts';

if (PG_SKIP === false) {
  runEventQueueConformance('postgres', async (now) => {
    const f = await pgDatabase();
    const other = new PgDatabase({ connectionString: f.url, maxOpen: 4 });
    return {
      queue: new PgEventQueue(f.db, now),
      peer: new PgEventQueue(other, now),
      leaseMs: DEFAULT_CLAIM_LEASE_MS,
      cleanup: async () => {
        await other.close();
        await f.cleanup();
      },
    };
  });
}

describe('postgres event queue across nodes', { skip: PG_SKIP }, () => {
  it('three nodes draining two endpoints at once send every event once, in order', async () => {
    const f = await pgDatabase();
    const pools = [f.db, new PgDatabase({ connectionString: f.url, maxOpen: 2 }), new PgDatabase({ connectionString: f.url, maxOpen: 2 })];
    try {
      const endpoints = ['a', 'b'];
      const total = 40;
      const first = new PgEventQueue(f.db);
      for (let n = 1; n <= total; n++) await first.enqueue(endpoints.map((endpoint) => ({ endpoint, event: event(n) })));
      const sent = new Map<string, string[]>(endpoints.map((e) => [e, []]));
      const byNode = pools.map(() => 0);
      // each node runs a worker per endpoint, as the dispatcher does: claim, send, mark, again
      const worker = async (queue: PgEventQueue, node: number, endpoint: string): Promise<void> => {
        const log = sent.get(endpoint) ?? [];
        while (log.length < total) {
          const { deliveries } = await queue.claim(endpoint, 3, Date.now());
          if (deliveries.length === 0) {
            await yieldToOthers();
            continue;
          }
          log.push(...deliveries.map((d) => d.event.target.tag ?? ''));
          byNode[node] = (byNode[node] ?? 0) + deliveries.length;
          await queue.markDelivered(deliveries.map((d) => d.id), Date.now());
        }
      };
      await Promise.all(pools.flatMap((db, node) => endpoints.map((e) => worker(new PgEventQueue(db), node, e))));
      const expected = Array.from({ length: total }, (_, i) => `v${i + 1}`);
      for (const e of endpoints) assert.deepEqual(sent.get(e), expected, `endpoint ${e}`);
      assert.equal(byNode.reduce((a, b) => a + b, 0), total * endpoints.length);
      assert.deepEqual(await first.list(), []);
    } finally {
      for (const db of pools.slice(1)) await db.close();
      await f.cleanup();
    }
  });
});
