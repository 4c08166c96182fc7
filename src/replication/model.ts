/**
 * Replication, the domain (issue 17): rules come from the config (config/replication-schema.ts);
 * each execution of a rule is a run, recorded in the meta store as it goes (images copied,
 * skipped, failed, bytes) so that the API, the CLI and the web UI show its progress, and so that
 * one node at a time runs a rule.
 */

export type RunTrigger = 'manual' | 'schedule' | 'onpush';
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'partial';

/** What a run did, so far or in the end. */
export interface RunCounts {
  /** Tags (images) copied. */
  copied: number;
  /** Tags already the same at the destination. */
  skipped: number;
  /** Tags that failed (each with its reason in `failures`). */
  failed: number;
  /** Tags deleted at the destination (rules with deletes). */
  deleted: number;
  /** Blob bytes sent. */
  bytes: number;
}

export interface RunFailure {
  /** repository:tag, or a repository alone when listing it failed. */
  what: string;
  reason: string;
}

export interface ReplicationRun {
  id: number;
  rule: string;
  trigger: RunTrigger;
  status: RunStatus;
  counts: RunCounts;
  /** At most MAX_FAILURES kept (the counts have them all). */
  failures: RunFailure[];
  /** For onpush runs: the one repository:tag it copies. */
  scope: string | null;
  startedAt: number;
  finishedAt: number | null;
  /** The node running it (leases). */
  node: string;
}

export const MAX_FAILURES = 100;
export const EMPTY_COUNTS: RunCounts = { copied: 0, skipped: 0, failed: 0, deleted: 0, bytes: 0 };

export interface ReplicationStore {
  /**
   * Start a run of `rule` on `node`, unless one of the rule runs already on a node whose lease
   * holds (until `leaseUntil`): then undefined. A run whose node's lease ran out is ended as failed
   * ("interrupted") first. onpush runs (scope set) do not exclude each other, nor other runs.
   */
  start(run: { rule: string; trigger: RunTrigger; scope: string | null; node: string }, now: number, leaseUntil: number): Promise<ReplicationRun | undefined>;
  /** Record progress and extend the lease; false when the run is no longer this node's. */
  progress(id: number, node: string, counts: RunCounts, failures: RunFailure[], leaseUntil: number): Promise<boolean>;
  /** End a run. */
  finish(id: number, node: string, status: Exclude<RunStatus, 'running'>, counts: RunCounts, failures: RunFailure[], now: number): Promise<boolean>;
  get(id: number): Promise<ReplicationRun | undefined>;
  /** A rule's runs, newest first; `before`: ids below it. */
  list(rule: string, opts?: { limit?: number; before?: number }): Promise<ReplicationRun[]>;
  /** The newest run of each rule named. */
  latest(rules: readonly string[]): Promise<Map<string, ReplicationRun>>;
}
