/**
 * The event queue on the meta store's SQLite database (table event_deliveries, migration 3).
 *
 * Durability: deliveries of push, delete and mount events are committed with synchronous=FULL
 * before the response, like the metadata they describe. Pull events, one per GET on the hot path,
 * are committed with synchronous=NORMAL: they survive a process crash or restart (the WAL is in
 * the OS cache) but a power cut may lose the last few. Bookkeeping (delivered, failed, pruned) is
 * NORMAL too: losing it only means sending an event again, which at-least-once allows.
 *
 * Claims lease their deliveries (event-claim.ts) as on PostgreSQL. One process uses a SQLite file,
 * so its queue is always the holder 'local' (unless told otherwise): a restart takes back at once
 * the batch that a stop left leased, and the lease only matters to the conformance suite's peer.
 */
import type Database from 'better-sqlite3';
import type { Claim, Delivery, DeliveryState, EndpointBacklog, EventQueue, NewDelivery } from '../../events/queue.ts';
import { DEFAULT_CLAIM_LEASE_MS, headBatch, type ClaimLeaseOptions } from '../event-claim.ts';
import { BACKLOG_SQL, DELIVERY_COLUMNS, STATE_FILTER, toBacklog, toDelivery, UNDELIVERED, type BacklogRow, type DeliveryRow, type HeadRow } from '../rows/deliveries.ts';
import { relaxed } from './relaxed.ts';

function prepare(db: Database.Database) {
  const list = (state: DeliveryState | 'any') =>
    db.prepare<[number], DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM event_deliveries WHERE ${UNDELIVERED} ${STATE_FILTER[state]} ORDER BY id LIMIT ?`);
  return {
    insert: db.prepare<[string, string, string, string, string, number, number]>(
      `INSERT INTO event_deliveries (endpoint, event_id, action, repository, payload, next_attempt_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    head: db.prepare<[string, number], HeadRow>(
      `SELECT ${DELIVERY_COLUMNS}, claimed_by, claimed_until FROM event_deliveries WHERE endpoint = ? AND ${UNDELIVERED} ORDER BY id LIMIT ?`,
    ),
    lease: db.prepare<[string, number, number]>('UPDATE event_deliveries SET claimed_by = ?, claimed_until = ? WHERE id = ?'),
    delivered: db.prepare<[number, number]>(`UPDATE event_deliveries SET delivered_at = ? WHERE id = ?`),
    // a failure ends the failing queue's lease (the retry may go from any node), not another's
    failed: db.prepare<[string, number, string, number]>(
      `UPDATE event_deliveries SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,
              claimed_until = CASE WHEN claimed_by = ? THEN NULL ELSE claimed_until END
       WHERE id = ? AND ${UNDELIVERED}`,
    ),
    list: { any: list('any'), pending: list('pending'), failed: list('failed') },
    backlog: db.prepare<[], BacklogRow>(BACKLOG_SQL),
    prune: db.prepare<[number]>('DELETE FROM event_deliveries WHERE delivered_at IS NOT NULL AND delivered_at < ?'),
  };
}

export class SqliteEventQueue implements EventQueue {
  private readonly st: ReturnType<typeof prepare>;
  private readonly leaseMs: number;
  private readonly holder: string;

  /** `db` is the meta store's connection (SqliteMetaStore.database), already migrated. */
  constructor(
    private readonly db: Database.Database,
    private readonly clock: () => number = Date.now,
    options: ClaimLeaseOptions = {},
  ) {
    this.st = prepare(db);
    this.leaseMs = options.leaseMs ?? DEFAULT_CLAIM_LEASE_MS;
    this.holder = options.holder ?? 'local';
  }

  async enqueue(deliveries: readonly NewDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    const now = this.clock();
    const insert = this.db.transaction(() => {
      for (const { endpoint, event } of deliveries) {
        this.st.insert.run(endpoint, event.id, event.action, event.target.repository, JSON.stringify(event), now, now);
      }
    });
    if (deliveries.every((d) => d.event.action === 'pull')) relaxed(this.db, insert);
    else insert();
  }

  async claim(endpoint: string, limit: number, now: number): Promise<Claim> {
    const claim = this.db.transaction((): Claim => {
      const rows = this.st.head.all(endpoint, limit);
      const { take, nextDueAt } = headBatch(rows, this.holder, now);
      const claimed = rows.slice(0, take);
      for (const row of claimed) this.st.lease.run(this.holder, now + this.leaseMs, row.id);
      return { deliveries: claimed.map(toDelivery), ...(nextDueAt !== undefined && { nextDueAt }) };
    });
    return relaxed(this.db, () => claim.immediate());
  }

  async markDelivered(ids: readonly number[], now: number): Promise<void> {
    relaxed(this.db, this.db.transaction(() => ids.forEach((id) => this.st.delivered.run(now, id))));
  }

  async markFailed(ids: readonly number[], error: string, nextAttemptAt: number): Promise<void> {
    relaxed(this.db, this.db.transaction(() => ids.forEach((id) => this.st.failed.run(error.slice(0, 1000), nextAttemptAt, this.holder, id))));
  }

  async list(opts: { state?: DeliveryState; limit?: number } = {}): Promise<Delivery[]> {
    return this.st.list[opts.state ?? 'any'].all(opts.limit ?? -1).map(toDelivery);
  }

  async backlog(): Promise<EndpointBacklog[]> {
    return this.st.backlog.all().map(toBacklog);
  }

  async prune(deliveredBefore: number): Promise<number> {
    return relaxed(this.db, () => this.st.prune.run(deliveredBefore).changes);
  }

}
