/** The last garbage collection runs, newest first, and the words for a run's report. */
import type { GcReport, GcRun } from '../api/gc.ts';
import { NumHeader, Table } from '../components/Table.tsx';
import { Time } from '../components/Time.tsx';
import { formatBytes, formatNumber, plural } from '../lib/format.ts';

/** A span of seconds as people say it: "1 h 30 min", "45 s", "none" for 0. */
export function formatSeconds(seconds: number): string {
  if (seconds <= 0) return 'none';
  const parts: string[] = [];
  let rest = Math.round(seconds);
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['min', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
  }
  return parts.slice(0, 2).join(' ');
}

/** How long a run took: "350 ms", "2.4 s", "3 min 5 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return formatSeconds(ms / 1000);
}

const TRIGGERS: Record<string, string> = { schedule: 'Scheduled', api: 'Web UI or API', cli: 'berth gc' };

export function triggerLabel(trigger: string): string {
  return TRIGGERS[trigger] ?? trigger;
}

/** "3 blobs and 1 manifest in 2 repositories". */
export function objectsIn(report: Pick<GcReport, 'manifests' | 'blobs' | 'repositories'>): string {
  const repos = report.repositories.length;
  return `${plural(report.blobs, 'blob')} and ${plural(report.manifests, 'manifest')}${repos === 0 ? '' : ` in ${plural(repos, 'repository', 'repositories')}`}`;
}

/** A run's errors: none, or how many with the messages folded under them. */
export function RunErrors({ errors }: { errors: string[] }) {
  if (errors.length === 0) return <>None</>;
  return (
    <details>
      <summary>{plural(errors.length, 'error')}</summary>
      <ul>
        {errors.map((e, i) => (
          <li key={i}>{e}</li>
        ))}
      </ul>
    </details>
  );
}

function Unfinished({ run, running }: { run: GcRun; running: boolean }) {
  return (
    <td colSpan={5}>
      {running ? <strong>Running…</strong> : <>Not finished: still running on {run.node}, or stopped before its end (the next run finishes its work).</>}
    </td>
  );
}

/** The runs as the API lists them (newest first); `running` says the newest unfinished one is going on. */
export function GcRuns({ runs, running }: { runs: GcRun[]; running: boolean }) {
  if (runs.length === 0) return <p class="empty">No collection has run yet.</p>;
  const current = runs.find((r) => r.finishedAt === null);
  return (
    <Table
      caption="Last runs, newest first; a dry run's figures are what it would have freed"
      hideCaption
      head={
        <>
          <th scope="col">Started</th>
          <th scope="col">Trigger</th>
          <th scope="col">Kind</th>
          <NumHeader>Freed</NumHeader>
          <NumHeader>Manifests</NumHeader>
          <NumHeader>Blobs</NumHeader>
          <NumHeader>Duration</NumHeader>
          <th scope="col">Errors</th>
        </>
      }
    >
      {runs.map((run) => {
        const report = run.finishedAt === null ? null : run.report;
        return (
          <tr key={run.id}>
            <td class="nowrap">
              <Time at={run.startedAt} />
            </td>
            <td>
              {triggerLabel(run.trigger)}
              <div class="hint">on {run.node}</div>
            </td>
            <td>{run.dryRun ? 'Dry run' : 'Collection'}</td>
            {report === null ? (
              <Unfinished run={run} running={running && run === current} />
            ) : (
              <>
                <td class="num" title={`${formatNumber(report.bytes)} bytes`}>
                  {formatBytes(report.bytes)}
                </td>
                <td class="num">{formatNumber(report.manifests)}</td>
                <td class="num">{formatNumber(report.blobs)}</td>
                <td class="num">{formatDuration(report.durationMs)}</td>
                <td>
                  <RunErrors errors={report.errors} />
                </td>
              </>
            )}
          </tr>
        );
      })}
    </Table>
  );
}
