/**
 * Leases for background jobs that must run once across a cluster (upload purging, usage
 * sampling, pull-count flushes, garbage collection): every node ticks, and the node that holds the
 * job's lease does the work. A lease is a row per job with its holder and expiry in the shared
 * database (sqlite/leases.ts, postgres/leases.ts; one suite, leases-conformance.ts). Expiry is read
 * on each node's clock, so the ttl should dwarf the nodes' clock skew.
 */

export interface JobLeases {
  /**
   * Take or keep the job's lease for `ttlMs` from now: true when `holder` holds it now (it was
   * free, already held by the same holder and so renewed, or taken over after its expiry), false
   * while another holder's lease lasts.
   */
  acquire(job: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Give the lease up, if `holder` holds it (another holder's lease is left alone). */
  release(job: string, holder: string): Promise<void>;
}

/**
 * Run `fn` if `holder` gets the job's lease; returns whether it ran. The lease is kept when `fn`
 * succeeds, so the job runs once per `ttlMs` across the cluster (the holder renews it on its next
 * tick); it is released when `fn` throws, so any node may try again at its next tick.
 */
export async function withLease(leases: JobLeases, job: string, holder: string, ttlMs: number, fn: () => Promise<void> | void): Promise<boolean> {
  if (!(await leases.acquire(job, holder, ttlMs))) return false;
  try {
    await fn();
  } catch (err) {
    await leases.release(job, holder).catch(() => undefined);
    throw err;
  }
  return true;
}

/** Runs a background job's tick only where it should run: on one node of a cluster at a time. */
export type RunOnce = (job: string, ttlMs: number, fn: () => Promise<void> | void) => Promise<boolean>;

/** This node's RunOnce over the backend's leases (withLease with this node as the holder). */
export function leasedRunner(leases: JobLeases, holder: string): RunOnce {
  return (job, ttlMs, fn) => withLease(leases, job, holder, ttlMs, fn);
}
