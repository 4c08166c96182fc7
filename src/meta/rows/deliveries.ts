/**
 * The rows of event_deliveries as both event queues read them (sqlite/event-queue.ts and
 * postgres/event-queue.ts), their mapping to the queue's records, and the SQL fragments that read
 * the same on both dialects. Placeholders and batching stay in each store.
 */
import type { RegistryEvent } from '../../events/event.ts';
import type { Delivery, DeliveryState, EndpointBacklog } from '../../events/queue.ts';

export interface DeliveryRow {
  id: number;
  endpoint: string;
  payload: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
}

/** A delivery at the head of an endpoint's queue, with its lease (event-claim.ts). */
export interface HeadRow extends DeliveryRow {
  claimed_by: string | null;
  claimed_until: number | null;
}

export interface BacklogRow {
  endpoint: string;
  pending: number;
  failed: number;
  oldest: number;
  last_error: string | null;
}

export const DELIVERY_COLUMNS = 'id, endpoint, payload, attempts, next_attempt_at, last_error, created_at';
export const UNDELIVERED = 'delivered_at IS NULL';
export const STATE_FILTER: Record<DeliveryState | 'any', string> = { any: '', pending: 'AND attempts = 0', failed: 'AND attempts > 0' };

/** Each endpoint's undelivered deliveries: counts, the oldest, and the latest error. */
export const BACKLOG_SQL = `SELECT endpoint,
       SUM(CASE WHEN attempts = 0 THEN 1 ELSE 0 END) AS pending,
       SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END) AS failed,
       MIN(created_at) AS oldest,
       (SELECT d.last_error FROM event_deliveries d
         WHERE d.endpoint = e.endpoint AND d.delivered_at IS NULL AND d.last_error IS NOT NULL
         ORDER BY d.id DESC LIMIT 1) AS last_error
FROM event_deliveries e WHERE ${UNDELIVERED} GROUP BY endpoint ORDER BY endpoint`;

export function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    endpoint: row.endpoint,
    event: JSON.parse(row.payload) as RegistryEvent,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    createdAt: row.created_at,
  };
}

export const toBacklog = (r: BacklogRow): EndpointBacklog => ({
  endpoint: r.endpoint,
  pending: r.pending,
  failed: r.failed,
  oldestCreatedAt: r.oldest,
  lastError: r.last_error,
});
