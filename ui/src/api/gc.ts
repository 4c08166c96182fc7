/** Garbage collection, for administrators (docs/gc.md; the API in docs/ui-api.md). */
import { api } from './client.ts';

export interface GcRepositoryReport {
  name: string;
  manifests: number;
  blobs: number;
  /** Bytes of the blobs linked to this repository (a blob linked to several counts in each). */
  bytes: number;
}

/** What a run freed, or a dry run would free. */
export interface GcReport {
  manifests: number;
  blobs: number;
  /** Bytes freed in storage, each blob once. */
  bytes: number;
  /** Abandoned upload sessions purged. */
  uploads: number;
  /** Blobs left for the next run (a push held them). */
  deferred: number;
  durationMs: number;
  repositories: GcRepositoryReport[];
  errors: string[];
}

export interface GcRun {
  id: number;
  startedAt: string;
  /** null while the run goes on, or when it stopped without finishing. */
  finishedAt: string | null;
  /** 'schedule', 'cli', 'api', ... */
  trigger: string;
  dryRun: boolean;
  node: string;
  report: GcReport | null;
}

export interface GcStatus {
  settings: {
    /** 0: no background runs. */
    intervalSeconds: number;
    graceSeconds: number;
    untagged: 'keep' | 'delete';
    /** "HH:MM-HH:MM": background runs only inside it. */
    window?: string;
  };
  /** A collection is going on in the node that answered. */
  running: boolean;
  /** What waits for review. */
  queued: { blobs: number; manifests: number };
  /**
   * What a run would free now; while a collection runs, the figures from before it (stale), or
   * null if there were none: the server does not wait for the run to answer.
   */
  reclaimable: { manifests: number; blobs: number; bytes: number; repositories: GcRepositoryReport[]; asOf: string; stale: boolean } | null;
  /** The last runs, newest first. */
  runs: GcRun[];
}

/** The answer to POST: the run's report with its times. */
export interface GcRunResult extends GcReport {
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
}

export function getGc(signal?: AbortSignal): Promise<GcStatus> {
  return api<GcStatus>('/admin/gc', { ...(signal && { signal }) });
}

/** Runs a collection (or, with dryRun, only reports what it would free) and answers when it is done. */
export function runGc(dryRun: boolean): Promise<GcRunResult> {
  return api<GcRunResult>('/admin/gc', { method: 'POST', body: { dryRun } });
}
