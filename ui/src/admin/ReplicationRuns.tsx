/** A replication rule's runs, newest first, and the words for one run: its status, counts, duration and failures. */
import type { ReplicationRun, RunStatus } from '../api/replication.ts';
import { NumHeader, Table } from '../components/Table.tsx';
import { Time } from '../components/Time.tsx';
import { formatBytes, formatNumber, plural } from '../lib/format.ts';
import { formatDuration } from './GcRuns.tsx';

const STATUS: Record<RunStatus, { label: string; badge: string }> = {
  running: { label: 'Running', badge: 'badge badge-automated' },
  succeeded: { label: 'Succeeded', badge: 'badge badge-official' },
  partial: { label: 'Partial', badge: 'badge badge-private' },
  failed: { label: 'Failed', badge: 'badge badge-private' },
};

export function RunStatusBadge({ status }: { status: RunStatus }) {
  const s = STATUS[status] ?? { label: status, badge: 'badge badge-public' };
  return <span class={s.badge}>{s.label}</span>;
}

/** "By hand", "Scheduled", "On push of lib/app:1", "On delete of lib/app:1". */
export function runTrigger(run: ReplicationRun): string {
  switch (run.trigger) {
    case 'manual':
      return 'By hand';
    case 'schedule':
      return 'Scheduled';
    case 'onpush':
      return run.scope === null ? 'On push' : `On push of ${run.scope}`;
    case 'ondelete':
      return run.scope === null ? 'On delete' : `On delete of ${run.scope}`;
    default:
      return String(run.trigger);
  }
}

/** How long it took, or has been running (as of the last refresh). */
export function runDuration(run: ReplicationRun, now = Date.now()): string {
  const started = Date.parse(run.started);
  const ended = run.finished === null ? now : Date.parse(run.finished);
  if (Number.isNaN(started) || Number.isNaN(ended)) return '–';
  const took = formatDuration(Math.max(0, ended - started));
  return run.finished === null ? `${took} so far` : took;
}

/** "2 copied, 1 skipped, 0 failed, 0 deleted; 3.1 MB sent". */
export function runCounts(run: ReplicationRun): string {
  return `${formatNumber(run.copied)} copied, ${formatNumber(run.skipped)} skipped, ${formatNumber(run.failed)} failed, ${formatNumber(run.deleted)} deleted; ${formatBytes(run.bytes)} sent`;
}

/** What failed and why; the first `show` open, the rest folded. */
export function RunFailures({ run, show = 0 }: { run: ReplicationRun; show?: number }) {
  if (run.failures.length === 0) return run.failed > 0 ? <>{plural(run.failed, 'failure')}</> : <>None</>;
  const item = (f: ReplicationRun['failures'][number], i: number) => (
    <li key={i}>
      <span class="mono">{f.what}</span>: {f.reason}
    </li>
  );
  const shown = run.failures.slice(0, show);
  const folded = run.failures.slice(show);
  // the API keeps the first failures only; the count has them all
  const untold = run.failed - run.failures.length;
  return (
    <>
      {shown.length > 0 && <ul class="replication-failures">{shown.map(item)}</ul>}
      {folded.length > 0 && (
        <details>
          <summary>{shown.length > 0 ? `${plural(folded.length, 'more failure')}` : plural(run.failures.length, 'failure')}</summary>
          <ul class="replication-failures">{folded.map((f, i) => item(f, i + show))}</ul>
        </details>
      )}
      {untold > 0 && <p class="hint">and {plural(untold, 'more')} not kept</p>}
    </>
  );
}

export function ReplicationRuns({ rule, runs }: { rule: string; runs: ReplicationRun[] }) {
  if (runs.length === 0) return <p class="empty">This rule has not run yet.</p>;
  return (
    <Table
      caption={`Runs of ${rule}, newest first`}
      hideCaption
      head={
        <>
          <th scope="col">Started</th>
          <th scope="col">Trigger</th>
          <th scope="col">Status</th>
          <NumHeader>Copied</NumHeader>
          <NumHeader>Skipped</NumHeader>
          <NumHeader>Failed</NumHeader>
          <NumHeader>Deleted</NumHeader>
          <NumHeader>Sent</NumHeader>
          <NumHeader>Duration</NumHeader>
          <th scope="col">Failures</th>
        </>
      }
    >
      {runs.map((run) => (
        <tr key={run.id}>
          <td class="nowrap">
            <Time at={run.started} />
          </td>
          <td>
            {runTrigger(run)}
            <div class="hint">
              run {run.id} on {run.node}
            </div>
          </td>
          <td>
            <RunStatusBadge status={run.status} />
          </td>
          <td class="num">{formatNumber(run.copied)}</td>
          <td class="num">{formatNumber(run.skipped)}</td>
          <td class="num">{formatNumber(run.failed)}</td>
          <td class="num">{formatNumber(run.deleted)}</td>
          <td class="num" title={`${formatNumber(run.bytes)} bytes`}>
            {formatBytes(run.bytes)}
          </td>
          <td class="num nowrap">{runDuration(run)}</td>
          <td>
            <RunFailures run={run} />
          </td>
        </tr>
      ))}
    </Table>
  );
}
