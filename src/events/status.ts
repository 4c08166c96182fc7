/**
 * What waits to be delivered, as JSON: the per-endpoint backlog and the undelivered deliveries,
 * oldest first. The `berth events` command prints it; the HTTP API serves it as it is.
 */
import type { DeliveryState, EventQueue } from './queue.ts';

export interface DeliveryStatus {
  id: number;
  endpoint: string;
  state: DeliveryState;
  attempts: number;
  /** RFC 3339. */
  createdAt: string;
  nextAttemptAt: string;
  lastError: string | null;
  event: { id: string; action: string; repository: string; digest?: string; tag?: string; mediaType?: string };
}

export interface EventsStatus {
  endpoints: { name: string; pending: number; failed: number; oldestCreatedAt: string; lastError: string | null }[];
  deliveries: DeliveryStatus[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The backlog, and up to `limit` (default 100) deliveries, optionally only failed ones. */
export async function eventsStatus(queue: EventQueue, opts: { failedOnly?: boolean; limit?: number } = {}): Promise<EventsStatus> {
  const backlog = await queue.backlog();
  const deliveries = await queue.list({ limit: opts.limit ?? 100, ...(opts.failedOnly === true ? { state: 'failed' as const } : {}) });
  return {
    endpoints: backlog.map((b) => ({
      name: b.endpoint,
      pending: b.pending,
      failed: b.failed,
      oldestCreatedAt: iso(b.oldestCreatedAt),
      lastError: b.lastError,
    })),
    deliveries: deliveries.map((d) => {
      const { target } = d.event;
      return {
        id: d.id,
        endpoint: d.endpoint,
        state: d.attempts > 0 ? 'failed' : 'pending',
        attempts: d.attempts,
        createdAt: iso(d.createdAt),
        nextAttemptAt: iso(d.nextAttemptAt),
        lastError: d.lastError,
        event: {
          id: d.event.id,
          action: d.event.action,
          repository: target.repository,
          ...(target.digest === undefined ? {} : { digest: target.digest }),
          ...(target.tag === undefined ? {} : { tag: target.tag }),
          ...(target.mediaType === undefined ? {} : { mediaType: target.mediaType }),
        },
      };
    }),
  };
}
