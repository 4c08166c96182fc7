/**
 * The rows of replication_runs as both replication stores read them (sqlite/replication-store.ts,
 * postgres/replication-store.ts), their mapping to replication/model.ts's runs, and what both
 * stores write the same way: counts and failures as JSON text, failures capped, and the failure
 * recorded when a run's node stopped. Placeholders stay in each store.
 */
import { MAX_FAILURES, type ReplicationRun, type RunCounts, type RunFailure, type RunStatus, type RunTrigger } from '../../replication/model.ts';

export interface RunRow {
  id: number;
  rule: string;
  trigger_kind: string;
  status: string;
  counts: string;
  failures: string;
  scope: string | null;
  started_at: number;
  finished_at: number | null;
  node: string;
}

export const RUN_COLUMNS = 'id, rule, trigger_kind, status, counts, failures, scope, started_at, finished_at, node';

export function toRun(r: RunRow): ReplicationRun {
  return {
    id: r.id,
    rule: r.rule,
    trigger: r.trigger_kind as RunTrigger,
    status: r.status as RunStatus,
    counts: JSON.parse(r.counts) as RunCounts,
    failures: JSON.parse(r.failures) as RunFailure[],
    scope: r.scope,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    node: r.node,
  };
}

/** A failure's `what` and `reason` are kept this short (a remote's error page can be long). */
export const MAX_FAILURE_CHARS = 1000;
/** The reason recorded when a run's node stopped before finishing it (its lease ran out). */
export const INTERRUPTED = 'interrupted: the node running it stopped';

/** At most `max` UTF-16 units, never ending inside a surrogate pair. */
function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  const code = s.charCodeAt(max - 1);
  return s.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/** The failures as stored: the first MAX_FAILURES, each text cut to MAX_FAILURE_CHARS. */
export function failuresJson(failures: readonly RunFailure[]): string {
  return JSON.stringify(failures.slice(0, MAX_FAILURES).map((f) => ({ what: cut(f.what, MAX_FAILURE_CHARS), reason: cut(f.reason, MAX_FAILURE_CHARS) })));
}

export const countsJson = (counts: RunCounts): string =>
  JSON.stringify({ copied: counts.copied, skipped: counts.skipped, failed: counts.failed, deleted: counts.deleted, bytes: counts.bytes });

/**
 * The failures of a run whose node stopped: those it recorded, then the interruption (kept even
 * when the run had MAX_FAILURES already: it is why the run failed). `what` is the run's scope for
 * an onpush run, else empty: the whole run was cut short, not one image.
 */
export function interruptedFailures(row: Pick<RunRow, 'failures' | 'scope'>): string {
  const recorded = JSON.parse(row.failures) as RunFailure[];
  return failuresJson([...recorded.slice(0, MAX_FAILURES - 1), { what: row.scope ?? '', reason: INTERRUPTED }]);
}
