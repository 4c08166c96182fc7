/**
 * Garbage collection for administrators: what a run would free now (per repository, largest
 * first) and what waits for review, the buttons to preview a run and to collect now (after a
 * confirmation) with what that did, the settings, and the last runs.
 */
import { useState } from 'preact/hooks';
import { getGc, runGc, type GcRunResult, type GcStatus } from '../api/gc.ts';
import { errorMessage } from '../api/messages.ts';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { Loading } from '../components/Loading.tsx';
import { NumHeader, Table } from '../components/Table.tsx';
import { useAsync, type Async } from '../hooks/useAsync.ts';
import { formatBytes, formatNumber, plural } from '../lib/format.ts';
import { formatDuration, formatSeconds, GcRuns, objectsIn, RunErrors } from './GcRuns.tsx';

function Settings({ settings }: { settings: GcStatus['settings'] }) {
  return (
    <dl class="facts">
      <dt>Background runs</dt>
      <dd>{settings.intervalSeconds > 0 ? `every ${formatSeconds(settings.intervalSeconds)}` : 'off (storage.gc.interval is 0)'}</dd>
      <dt>Window</dt>
      <dd>{settings.window === undefined ? 'any time of day' : `${settings.window} (server time)`}</dd>
      <dt>Grace period</dt>
      <dd>{settings.graceSeconds > 0 ? `${formatSeconds(settings.graceSeconds)}: a blob is collected once nothing has referenced it that long` : 'none: a blob is collected as soon as nothing references it'}</dd>
      <dt>Untagged manifests</dt>
      <dd>{settings.untagged === 'delete' ? 'deleted once the grace period has passed' : 'kept'}</dd>
    </dl>
  );
}

/** A figure of what a run would free: a dash while a run goes on and none was taken before it. */
function figure(n: number | undefined, format: (n: number) => string): string {
  return n === undefined ? '–' : format(n);
}

function Figures({ status }: { status: GcStatus }) {
  const { reclaimable, queued } = status;
  return (
    <dl class="stat-grid">
      <div class="card">
        <dt>{reclaimable?.stale === true ? 'Reclaimable before this run' : 'Reclaimable now'}</dt>
        <dd title={reclaimable === null ? 'known once the running collection ends' : `${formatNumber(reclaimable.bytes)} bytes`}>{figure(reclaimable?.bytes, formatBytes)}</dd>
      </div>
      <div class="card">
        <dt>Blobs</dt>
        <dd>{figure(reclaimable?.blobs, formatNumber)}</dd>
      </div>
      <div class="card">
        <dt>Manifests</dt>
        <dd>{figure(reclaimable?.manifests, formatNumber)}</dd>
      </div>
      <div class="card">
        <dt>Queued for review</dt>
        <dd title={`${plural(queued.blobs, 'blob')} and ${plural(queued.manifests, 'manifest')}`}>{formatNumber(queued.blobs + queued.manifests)}</dd>
      </div>
    </dl>
  );
}

function ByRepository({ status }: { status: GcStatus }) {
  const { reclaimable, queued } = status;
  const repositories = [...(reclaimable?.repositories ?? [])].sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : 1));
  return (
    <>
      <p class="hint gc-hint">
        What a collection now would free. Queued for review: {plural(queued.blobs, 'blob')} and {plural(queued.manifests, 'manifest')} that a push, tag or delete
        changed since the last run; a run looks at those only, and frees those nothing references any more once the grace period has passed.
      </p>
      {reclaimable === null ? (
        <p class="empty">What a collection would free is known once the running one ends.</p>
      ) : repositories.length === 0 ? (
        <p class="empty">Nothing to reclaim.</p>
      ) : (
        <Table
          caption="By repository, largest first"
          head={
            <>
              <th scope="col">Repository</th>
              <NumHeader>Reclaimable</NumHeader>
              <NumHeader>Blobs</NumHeader>
              <NumHeader>Manifests</NumHeader>
            </>
          }
        >
          {repositories.map((r) => (
            <tr key={r.name}>
              <th scope="row" class="mono">
                {r.name}
              </th>
              <td class="num" title={`${formatNumber(r.bytes)} bytes`}>
                {formatBytes(r.bytes)}
              </td>
              <td class="num">{formatNumber(r.blobs)}</td>
              <td class="num">{formatNumber(r.manifests)}</td>
            </tr>
          ))}
        </Table>
      )}
      {repositories.length > 1 && <p class="hint gc-hint">A blob linked to several repositories counts in each of them, and once in the total.</p>}
    </>
  );
}

/** What the last button did, in words. */
function Result({ result }: { result: GcRunResult }) {
  const took = formatDuration(result.durationMs);
  const uploads = result.uploads > 0 ? `; ${plural(result.uploads, 'abandoned upload')} ${result.dryRun ? 'to purge' : 'purged'}` : '';
  return (
    <div class={result.errors.length > 0 ? 'error-box' : 'notice'}>
      <p>
        {result.dryRun ? (
          <>
            Preview (nothing deleted): a collection now would free <strong>{formatBytes(result.bytes)}</strong>, {objectsIn(result)}
            {uploads}. Took {took}.
          </>
        ) : (
          <>
            Collection done: freed <strong>{formatBytes(result.bytes)}</strong>, {objectsIn(result)}
            {uploads}. Took {took}.
          </>
        )}
        {result.deferred > 0 && ` ${plural(result.deferred, 'blob')} left for the next run: a push was writing them.`}
      </p>
      {result.errors.length > 0 && <RunErrors errors={result.errors} />}
    </div>
  );
}

function Actions({ status, onResult }: { status: Async<GcStatus>; onResult: (r: GcRunResult) => void }) {
  const [working, setWorking] = useState<'preview' | 'collect' | undefined>(undefined);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState('');
  const running = status.data?.running === true;
  const reclaimable = status.data?.reclaimable ?? undefined;

  const run = async (dryRun: boolean): Promise<void> => {
    setWorking(dryRun ? 'preview' : 'collect');
    setError('');
    try {
      onResult(await runGc(dryRun));
      status.reload();
    } finally {
      setWorking(undefined);
    }
  };

  return (
    <>
      <div class="actions">
        <button type="button" class="button secondary" disabled={working !== undefined || running} aria-busy={working === 'preview'} onClick={() => void run(true).catch((err: unknown) => setError(errorMessage(err)))}>
          Preview
        </button>
        <button type="button" class="button" disabled={working !== undefined || running} aria-busy={working === 'collect'} onClick={() => setConfirming(true)}>
          Collect now
        </button>
        {working !== undefined && <Loading label={working === 'preview' ? 'Working out what a collection would free…' : 'Collecting… pushes and pulls go on meanwhile.'} />}
      </div>
      <p class="form-error" role="alert">
        {error}
      </p>
      {confirming && (
        <ConfirmDialog title="Collect garbage now?" confirmLabel="Collect now" onConfirm={() => run(false)} onClose={() => setConfirming(false)}>
          <p>
            This deletes for good what nothing references any more
            {reclaimable === undefined ? '' : `: ${formatBytes(reclaimable.bytes)} in ${objectsIn(reclaimable)}, as of the figures shown`}. Pushes, pulls and
            deletes go on while it runs.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

export function GarbageCollection() {
  const status = useAsync((signal) => getGc(signal), []);
  const [result, setResult] = useState<GcRunResult | undefined>(undefined);
  const data = status.data;
  if (status.error !== undefined && data === undefined) return <ErrorNotice error={status.error} what="see garbage collection" retry={status.reload} />;
  if (data === undefined) return <Loading />;
  return (
    <>
      {data.running && (
        <p class="notice" role="status">
          A collection is running on this node. Its result shows under Last runs when it ends; until then a preview or another collection would wait for it, and the
          figures below are those from before it.
        </p>
      )}
      {status.error !== undefined && <ErrorNotice error={status.error} retry={status.reload} />}
      <section class="section-block" aria-labelledby="gc-reclaimable-title" aria-busy={status.loading}>
        <h2 id="gc-reclaimable-title">Reclaimable</h2>
        <Figures status={data} />
        <Actions status={status} onResult={setResult} />
        <div role="status" class="gc-result">
          {result !== undefined && <Result result={result} />}
        </div>
        <ByRepository status={data} />
      </section>
      <section class="section-block" aria-labelledby="gc-runs-title">
        <h2 id="gc-runs-title">Last runs</h2>
        <GcRuns runs={data.runs} running={data.running} />
      </section>
      <section class="section-block" aria-labelledby="gc-settings-title">
        <h2 id="gc-settings-title">Settings</h2>
        <Settings settings={data.settings} />
        <p class="hint gc-hint">
          From the configuration&apos;s <code>storage.gc</code> section (docs/gc.md). A collection runs online: nothing waits for it.
        </p>
      </section>
    </>
  );
}
