/**
 * The durable queue of event deliveries: one row per (event, endpoint), written before the
 * response of the request that caused the event, removed only after the endpoint accepted it (and
 * a retention period). Kept apart from MetaStore: a different concern that happens to share its
 * database (src/meta/sqlite/event-queue.ts; one suite for all, queue-conformance.ts). Delivery is
 * at-least-once: a crash between a successful POST and markDelivered sends the event again.
 */
import type { RegistryEvent } from './event.ts';

export interface NewDelivery {
  endpoint: string;
  event: RegistryEvent;
}

export interface Delivery {
  id: number;
  endpoint: string;
  event: RegistryEvent;
  /** Failed attempts so far (0: never tried, or not yet failed). */
  attempts: number;
  /** ms since epoch; not before this. */
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: number;
}

/** The head of an endpoint's queue: the due deliveries, oldest first, or when the head is due. */
export interface Claim {
  deliveries: Delivery[];
  /** With no due delivery: when the oldest pending one becomes due; undefined when none is pending. */
  nextDueAt?: number;
}

/** pending: never failed; failed: at least one failed attempt, waiting for a retry. */
export type DeliveryState = 'pending' | 'failed';

export interface EndpointBacklog {
  endpoint: string;
  pending: number;
  failed: number;
  /** ms since epoch of the oldest undelivered event. */
  oldestCreatedAt: number;
  lastError: string | null;
}

export interface EventQueue {
  /** Record deliveries (each event for each endpoint that accepts it) in one transaction. */
  enqueue(deliveries: readonly NewDelivery[]): Promise<void>;
  /**
   * The endpoint's oldest undelivered deliveries (at most `limit`), in order, if the oldest is due
   * at `now`; a later one that is not yet due ends the batch, so order is kept. The batch is leased
   * to this queue (its node) until marked or the lease ends: meanwhile a queue on another node gets
   * none of the endpoint's deliveries from the leased one on (nextDueAt: the lease's end), so each
   * goes out from one node at a time and in order, and a dead node's batch comes back after it.
   */
  claim(endpoint: string, limit: number, now: number): Promise<Claim>;
  markDelivered(ids: readonly number[], now: number): Promise<void>;
  /** Count a failed attempt and hold the deliveries until `nextAttemptAt`. */
  markFailed(ids: readonly number[], error: string, nextAttemptAt: number): Promise<void>;
  /** Undelivered deliveries, oldest first, optionally only those in one state. */
  list(opts?: { state?: DeliveryState; limit?: number }): Promise<Delivery[]>;
  /** Per endpoint, how many deliveries wait. */
  backlog(): Promise<EndpointBacklog[]>;
  /** Forget deliveries delivered before the given time; returns how many. */
  prune(deliveredBefore: number): Promise<number>;
}
