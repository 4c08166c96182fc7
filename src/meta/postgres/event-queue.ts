/**
 * The event queue on PostgreSQL (table event_deliveries, schema/events.ts), the twin of
 * sqlite/event-queue.ts, for several nodes each running a dispatcher on the same database.
 *
 * A claim runs under a transaction-scoped advisory lock per endpoint, so two nodes claiming the
 * same endpoint at once take turns: the first leases the head batch (claimed_by, claimed_until),
 * the second then reads that lease and gets nothing until the batch is marked or the lease ends
 * (meta/event-claim.ts decides, as on SQLite). Row locks with SKIP LOCKED would let the second node
 * take the rows after the locked head and send them first, out of order. An empty queue (an idle
 * poll) is answered by one read without the lock.
 *
 * Every commit waits for the disk (synchronous_commit), pull events and bookkeeping included:
 * SQLite's relaxed writes would cost a transaction around each single statement here (SET LOCAL).
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Claim, Delivery, DeliveryState, EndpointBacklog, EventQueue, NewDelivery } from '../../events/queue.ts';
import { DEFAULT_CLAIM_LEASE_MS, headBatch, type ClaimLeaseOptions } from '../event-claim.ts';
import { BACKLOG_SQL, DELIVERY_COLUMNS, STATE_FILTER, toBacklog, toDelivery, UNDELIVERED, type BacklogRow, type DeliveryRow, type HeadRow } from '../rows/deliveries.ts';
import type { PgDatabase } from './database.ts';

/** The advisory lock's first key for claims ("bert"); the second is the endpoint's hash. */
const CLAIM_LOCK = 0x62657274;

const SQL = {
  insert: `INSERT INTO event_deliveries (endpoint, event_id, action, repository, payload, next_attempt_at, created_at)
           SELECT endpoint, event_id, action, repository, payload, $6, $6
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
                WITH ORDINALITY AS d(endpoint, event_id, action, repository, payload, n)
           ORDER BY n`,
  lock: 'SELECT pg_advisory_xact_lock($1, hashtext($2))',
  head: `SELECT ${DELIVERY_COLUMNS}, claimed_by, claimed_until FROM event_deliveries
         WHERE endpoint = $1 AND ${UNDELIVERED} ORDER BY id LIMIT $2`,
  lease: 'UPDATE event_deliveries SET claimed_by = $1, claimed_until = $2 WHERE id = ANY($3::bigint[])',
  delivered: 'UPDATE event_deliveries SET delivered_at = $1 WHERE id = ANY($2::bigint[])',
  // a failure ends the failing queue's lease (the retry may go from any node), not another's
  failed: `UPDATE event_deliveries SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2,
                  claimed_until = CASE WHEN claimed_by = $3 THEN NULL ELSE claimed_until END
           WHERE id = ANY($4::bigint[]) AND ${UNDELIVERED}`,
  list: (state: DeliveryState | 'any') =>
    `SELECT ${DELIVERY_COLUMNS} FROM event_deliveries WHERE ${UNDELIVERED} ${STATE_FILTER[state]} ORDER BY id LIMIT $1`,
  backlog: BACKLOG_SQL,
  prune: 'DELETE FROM event_deliveries WHERE delivered_at IS NOT NULL AND delivered_at < $1',
};

export class PgEventQueue implements EventQueue {
  private readonly leaseMs: number;
  private readonly holder: string;

  /**
   * `db` is migrated. Without a `holder`, each queue is a holder of its own (host, pid and a random
   * part): a restarted node then waits out the lease of a batch its stop left unmarked; a holder
   * name kept across restarts (and never shared by two nodes) takes it back at once.
   */
  constructor(
    private readonly db: PgDatabase,
    private readonly now: () => number = Date.now,
    options: ClaimLeaseOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? DEFAULT_CLAIM_LEASE_MS;
    this.holder = options.holder ?? `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  }

  async enqueue(deliveries: readonly NewDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    await this.db.query(SQL.insert, [
      deliveries.map((d) => d.endpoint),
      deliveries.map((d) => d.event.id),
      deliveries.map((d) => d.event.action),
      deliveries.map((d) => d.event.target.repository),
      deliveries.map((d) => JSON.stringify(d.event)),
      this.now(),
    ]);
  }

  async claim(endpoint: string, limit: number, now: number): Promise<Claim> {
    if ((await this.db.rows(SQL.head, [endpoint, 1])).length === 0) return { deliveries: [] };
    return this.db.transaction(async (tx) => {
      await tx.query(SQL.lock, [CLAIM_LOCK, endpoint]);
      const rows = await this.db.rows<HeadRow>(SQL.head, [endpoint, limit], tx);
      const { take, nextDueAt } = headBatch(rows, this.holder, now);
      const claimed = rows.slice(0, take);
      if (claimed.length > 0) await tx.query(SQL.lease, [this.holder, now + this.leaseMs, claimed.map((r) => r.id)]);
      return { deliveries: claimed.map(toDelivery), ...(nextDueAt !== undefined && { nextDueAt }) };
    });
  }

  async markDelivered(ids: readonly number[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(SQL.delivered, [now, ids]);
  }

  async markFailed(ids: readonly number[], error: string, nextAttemptAt: number): Promise<void> {
    if (ids.length === 0) return;
    // TEXT holds no NUL, which an error message from a remote end might carry
    await this.db.query(SQL.failed, [error.slice(0, 1000).replaceAll('\0', ''), nextAttemptAt, this.holder, ids]);
  }

  async list(opts: { state?: DeliveryState; limit?: number } = {}): Promise<Delivery[]> {
    return (await this.db.rows<DeliveryRow>(SQL.list(opts.state ?? 'any'), [opts.limit ?? null])).map(toDelivery);
  }

  async backlog(): Promise<EndpointBacklog[]> {
    return (await this.db.rows<BacklogRow>(SQL.backlog)).map(toBacklog);
  }

  async prune(deliveredBefore: number): Promise<number> {
    return (await this.db.query(SQL.prune, [deliveredBefore])).rowCount ?? 0;
  }
}
