/**
 * Replication, the domain (issue 17): rules come from the config (config/replication-schema.ts);
 * each execution of a rule is a run, recorded in the meta store as it goes (images copied,
 * skipped, failed, bytes) so that the API, the CLI and the web UI show its progress, and so that
 * one node at a time runs a rule.
 */

/** `onpush`: a push rule's run after a push here; `ondelete`: after a delete here (rules with deletes). */
export type RunTrigger = 'manual' | 'schedule' | 'onpush' | 'ondelete';
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
  /** For onpush and ondelete runs: the one repository:tag, or the one repository, it covers. */
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
  /** Delete the rule's ended runs but the newest `keep` (runs still going stay); how many went. */
  prune(rule: string, keep: number): Promise<number>;
}

/** The runs kept of each rule (older ones are pruned as runs end). */
export const RUNS_KEPT = 1000;

/**
 * A rule made through the API or the CLI, beside the config's: its definition as the config would
 * hold it (config/replication-schema.ts, as JSON) without the remote's password, which is kept
 * sealed (secrets/secret-box.ts, bound to the rule's name) and never shown again.
 */
export interface StoredRule {
  name: string;
  /** The rule as JSON, remote.password left out. */
  spec: string;
  /** remote.password, sealed; null when the remote takes no credentials. */
  sealedPassword: string | null;
  /** The administrator who made it. */
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

/** How many rules the API and the CLI may make (the config's are not counted). */
export const MAX_STORED_RULES = 100;

export interface ReplicationRuleStore {
  /** Every stored rule, by name. */
  list(): Promise<StoredRule[]>;
  get(name: string): Promise<StoredRule | undefined>;
  /** 'exists' when a rule has that name; 'full' at `max` rules. */
  create(rule: StoredRule, max: number): Promise<'created' | 'exists' | 'full'>;
  /** Replace a rule's definition and password (createdBy, createdAt kept); false when there is none. */
  replace(rule: Pick<StoredRule, 'name' | 'spec' | 'sealedPassword' | 'updatedAt'>): Promise<boolean>;
  /**
   * Delete a rule and its runs; false when there is none. A run of it still going finds itself
   * gone at its next progress, and stops.
   */
  delete(name: string): Promise<boolean>;
}
