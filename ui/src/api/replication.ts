/** Replication rules and their runs, for administrators (docs/replication.md; src/http/handlers/api-replication.ts). */
import { api } from './client.ts';

export type RunTrigger = 'manual' | 'schedule' | 'onpush' | 'ondelete';
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
  /** onpush and ondelete runs: the one repository:tag, or repository, they cover. */
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
  /** config: the configuration file's (changed there, 409 here); api: made through the API or the CLI. */
  source: 'config' | 'api';
  /** Rules made here: who made them, when, and when they last changed (null for the config's). */
  createdBy: string | null;
  created: string | null;
  updated: string | null;
  /** Why the rule cannot run (its kept password no longer opens), or null. */
  problem: string | null;
  /** pull: remote -> berth; push: berth -> remote. */
  direction: 'pull' | 'push';
  /** password: whether one is kept (it is never shown). */
  remote: { url: string; username: string | null; password: boolean; insecure: boolean };
  remoteprefix: string | null;
  /** platforms: of a multi-platform image, only these (os/architecture[/variant]); null: every platform. */
  filters: { repositories: string[]; tags: string[]; platforms: string[] | null };
  /** schedule: cron, in UTC; next: its next firing. */
  trigger: { schedule: string | null; onpush: boolean; next: string | null };
  deletes: boolean;
  /** Blobs copied at once within one image. */
  parallel: number;
  /** Images copied at once. */
  concurrency: number;
  /** Bytes a second, or null for no limit. */
  bandwidth: number | null;
  lastRun: ReplicationRun | null;
}

/**
 * A rule as the API takes it (as the config's replication.rules holds one). Omitted optional
 * fields take the server's defaults; a change without remote.password keeps the stored one when
 * the remote's url and username stay the same.
 */
export interface ReplicationRuleInput {
  direction: 'pull' | 'push';
  remote: { url: string; username?: string; password?: string; insecure?: boolean };
  remoteprefix?: string;
  /** Omitted: every repository, tag (`*`) or platform. */
  filters?: { repositories?: string[]; tags?: string[]; platforms?: string[] };
  trigger?: { schedule?: string; onpush?: boolean };
  deletes?: boolean;
  parallel?: number;
  concurrency?: number;
  /** Bytes a second: a number, or a size such as `50MiB`. */
  bandwidth?: string | number;
}

const rulePath = (name: string): string => `/replication/${encodeURIComponent(name)}`;

/** The rules, the configuration file's then those made here (none: []), each with its last run. */
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

/** Makes a rule (201: the rule's view); 400 with the reason when the rule is invalid, 409 when the name is taken. */
export function createReplicationRule(rule: ReplicationRuleInput & { name: string }): Promise<ReplicationRule> {
  return api<ReplicationRule>('/replication', { method: 'POST', body: rule });
}

/** Replaces a rule made here (the configuration file's: 409); its name does not change. */
export function replaceReplicationRule(name: string, rule: ReplicationRuleInput): Promise<ReplicationRule> {
  return api<ReplicationRule>(rulePath(name), { method: 'PUT', body: rule });
}

/** Deletes a rule made here, and its runs (a run still going stops). */
export function deleteReplicationRule(name: string): Promise<void> {
  return api<void>(rulePath(name), { method: 'DELETE' });
}
