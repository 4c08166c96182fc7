/** Replication rules and their runs, for administrators (docs/replication.md; src/http/handlers/api-replication.ts). */
import { api } from './client.ts';

export type RunTrigger = 'manual' | 'schedule' | 'onpush';
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'partial';

export interface RunFailure {
  /** repository:tag, or a repository alone when listing it failed. */
  what: string;
  reason: string;
}

/** One execution of a rule, with its progress while it runs. */
export interface ReplicationRun {
  id: number;
  rule: string;
  trigger: RunTrigger;
  status: RunStatus;
  /** onpush runs: the one repository:tag it copies. */
  scope: string | null;
  /** Tags copied. */
  copied: number;
  /** Tags already the same at the destination. */
  skipped: number;
  failed: number;
  /** Tags deleted at the destination (rules with deletes). */
  deleted: number;
  /** Blob bytes sent. */
  bytes: number;
  /** The first failures (the count has them all). */
  failures: RunFailure[];
  started: string;
  finished: string | null;
  node: string;
}

/** A rule as the API shows it: never the remote's password. */
export interface ReplicationRule {
  name: string;
  /** pull: remote -> berth; push: berth -> remote. */
  direction: 'pull' | 'push';
  remote: { url: string; username: string | null; insecure: boolean };
  remoteprefix: string | null;
  filters: { repositories: string[]; tags: string[] };
  /** schedule: cron, in UTC; next: its next firing. */
  trigger: { schedule: string | null; onpush: boolean; next: string | null };
  deletes: boolean;
  lastRun: ReplicationRun | null;
}

const rulePath = (name: string): string => `/replication/${encodeURIComponent(name)}`;

/** The configured rules (none: []), each with its last run. */
export function listReplication(signal?: AbortSignal): Promise<ReplicationRule[]> {
  return api<ReplicationRule[]>('/replication', { ...(signal && { signal }) });
}

/** Starts a run of the rule now; answers it as started (409 while the rule runs). */
export function triggerReplication(name: string): Promise<ReplicationRun> {
  return api<ReplicationRun>(`${rulePath(name)}/trigger`, { method: 'POST' });
}

/** The rule's runs, newest first. */
export function listReplicationRuns(name: string, limit: number, signal?: AbortSignal): Promise<ReplicationRun[]> {
  return api<ReplicationRun[]>(`${rulePath(name)}/runs`, { query: { limit }, ...(signal && { signal }) });
}
