/**
 * What a claim on an endpoint's queue takes, the same for every EventQueue: the head rows (oldest
 * first, at most the batch limit, as read from the database) up to the first one that may not go
 * now, either because its retry is not due or because another queue (node) holds its lease.
 * Stopping there keeps the endpoint's order: while one node sends the head, no other sends what
 * follows it.
 */

export interface HeadRow {
  next_attempt_at: number;
  claimed_by: string | null;
  claimed_until: number | null;
}

export interface HeadBatch {
  /** How many of the head rows to claim (a prefix). */
  take: number;
  /** When none: when the head may go (its retry is due, or its lease ends). */
  nextDueAt?: number;
}

/** How long a row is held at `now` for `holder`: 0 when it may go. */
function heldUntil(row: HeadRow, holder: string, now: number): number {
  const leased = row.claimed_by !== holder && row.claimed_until !== null && row.claimed_until > now ? row.claimed_until : 0;
  const waiting = row.next_attempt_at > now ? row.next_attempt_at : 0;
  return Math.max(leased, waiting);
}

export function headBatch(rows: readonly HeadRow[], holder: string, now: number): HeadBatch {
  const first = rows[0];
  if (first === undefined) return { take: 0 };
  const held = heldUntil(first, holder, now);
  if (held > 0) return { take: 0, nextDueAt: held };
  const stop = rows.findIndex((r) => heldUntil(r, holder, now) > 0);
  return { take: stop === -1 ? rows.length : stop };
}

/** How a queue leases what it claims. */
export interface ClaimLeaseOptions {
  /**
   * How long a claim holds its deliveries from other queues (nodes) on the same database, unless
   * marked delivered or failed first: longer than an endpoint's timeout, since the dispatcher POSTs
   * a claimed batch once and then marks it. Default 60 s (endpoint timeouts default to 1 s).
   */
  leaseMs?: number;
  /**
   * Who claims: a queue takes back its own leased deliveries at once (after a restart too, when the
   * name is kept), and leaves another holder's until their lease ends.
   */
  holder?: string;
}

export const DEFAULT_CLAIM_LEASE_MS = 60_000;
