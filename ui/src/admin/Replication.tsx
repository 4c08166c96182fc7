/**
 * Replication for administrators: each rule (direction, remote and user, never a password;
 * filters, schedule, on push, deletes) with its last run, a "Run now" button, and its runs on
 * demand. Rules are added here (ReplicationRuleForm); those made here or with the CLI are changed
 * and deleted here too, the configuration file's only in the file. While a rule's last run goes
 * on, the rules (and the runs shown) are fetched again every 2 s, until none runs or the page is left.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage, isStatus } from '../api/messages.ts';
import { deleteReplicationRule, listReplication, listReplicationRuns, triggerReplication, type ReplicationRule, type ReplicationRun } from '../api/replication.ts';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { Loading } from '../components/Loading.tsx';
import { Time } from '../components/Time.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { plural } from '../lib/format.ts';
import { useToasts } from '../lib/toasts.tsx';
import { bandwidthText, ReplicationRuleForm } from './ReplicationRuleForm.tsx';
import { ReplicationRuns, RunFailures, runCounts, runDuration, RunStatusBadge, runTrigger } from './ReplicationRuns.tsx';

/** How often a running rule's progress is fetched again. */
const REFRESH_MS = 2000;
/** Runs shown of an expanded rule. */
const RUNS_SHOWN = 20;

const EXAMPLE = `replication:
  rules:
    - name: from-central
      direction: pull            # or push: from berth to the remote
      remote:
        url: https://registry.example.com
        username: robot
        password: _env:CENTRAL_PASSWORD
      filters:
        repositories: ["library/*"]
        tags: ["v*"]
      trigger:
        schedule: "0 3 * * *"     # cron, UTC; push rules may add onpush: true
      deletes: false`;

function NoRules() {
  return (
    <>
      <p class="notice">
        No replication rule yet. Rules copy images between berth and another registry (another berth, distribution, or any OCI registry): add one here, with{' '}
        <code>berth replication add</code>, or under <code>replication.rules</code> in the configuration (then restart berth). docs/replication.md describes them;
        for example, to copy the tagged releases of the <code>library/*</code> repositories of another registry here every night:
      </p>
      <pre>
        <code>{EXAMPLE}</code>
      </pre>
    </>
  );
}

function Patterns({ patterns }: { patterns: string[] }) {
  if (patterns.length === 0) return <>none</>;
  return (
    <>
      {patterns.map((p, i) => (
        <span key={p}>
          {i > 0 && ' '}
          <code>{p}</code>
        </span>
      ))}
    </>
  );
}

function LastRun({ run }: { run: ReplicationRun | null }) {
  if (run === null) return <span class="empty">Never run</span>;
  return (
    <div class="replication-last">
      <p>
        <RunStatusBadge status={run.status} /> <Time at={run.started} /> ({runTrigger(run).toLowerCase()}), {run.status === 'running' ? 'running for ' : 'took '}
        {runDuration(run)}
      </p>
      <p>{runCounts(run)}</p>
      {run.failures.length > 0 && <RunFailures run={run} show={3} />}
    </div>
  );
}

function RulesRuns({ rule }: { rule: ReplicationRule }) {
  const last = rule.lastRun;
  // fetched again whenever the rules show a change in the last run (its progress, its end, a new run)
  const change = last === null ? '' : [last.id, last.status, last.copied, last.skipped, last.failed, last.deleted, last.bytes].join(':');
  const runs = useAsync((signal) => listReplicationRuns(rule.name, RUNS_SHOWN, signal), [rule.name, change]);
  if (runs.error !== undefined) return <ErrorNotice error={runs.error} retry={runs.reload} />;
  if (runs.data === undefined) return <Loading />;
  return <ReplicationRuns rule={rule.name} runs={runs.data} />;
}

/** Where the rule is defined: the configuration file (changed there), or here (by whom, when). */
function RuleSource({ rule }: { rule: ReplicationRule }) {
  if (rule.source === 'config') {
    return (
      <p class="hint">
        From the configuration file (<code>replication.rules</code>): changed there, not here.
      </p>
    );
  }
  return (
    <>
      <p class="hint">
        Made here{rule.createdBy !== null && <> by {rule.createdBy}</>} <Time at={rule.created} />
        {rule.updated !== null && rule.updated !== rule.created && (
          <>
            , changed <Time at={rule.updated} />
          </>
        )}
      </p>
      {rule.problem !== null && (
        <div class="error-box">
          <p>This rule does not run: {rule.problem}. Edit it to give the remote&apos;s password again, or delete it.</p>
        </div>
      )}
    </>
  );
}

interface RuleProps {
  rule: ReplicationRule;
  onStarted: (run: ReplicationRun) => void;
  onBusy: () => void;
  /** After a change here. */
  onChanged: () => void;
  /** After its deletion. */
  onDeleted: () => void;
}

function Rule({ rule, onStarted, onBusy, onChanged, onDeleted }: RuleProps) {
  const { notify } = useToasts();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const editButton = useRef<HTMLButtonElement>(null);
  const mine = rule.source === 'api';
  const running = rule.lastRun?.status === 'running';
  const id = `replication-${rule.name}`;
  const pull = rule.direction === 'pull';
  // a refusal (it was running) is stale once the run it met has ended
  useEffect(() => {
    if (!running) setError('');
  }, [running]);

  const runNow = async (): Promise<void> => {
    setBusy(true);
    setError('');
    try {
      const run = await triggerReplication(rule.name);
      notify(`Run ${run.id} of ${rule.name} started`);
      onStarted(run);
    } catch (err) {
      setError(errorMessage(err));
      // it runs already (started elsewhere): show that run and follow it
      if (isStatus(err, 409)) onBusy();
    } finally {
      setBusy(false);
    }
  };

  const stopEditing = (): void => {
    setEditing(false);
    // back to the button that opened the form (after it is rendered again)
    setTimeout(() => editButton.current?.focus(), 0);
  };

  if (editing) {
    return (
      <section class="card replication-rule" aria-labelledby={`${id}-title`}>
        <h2 id={`${id}-title`}>
          <span class="mono">{rule.name}</span>
        </h2>
        <ReplicationRuleForm
          rule={rule}
          onCancel={stopEditing}
          onSaved={() => {
            stopEditing();
            onChanged();
          }}
        />
      </section>
    );
  }

  return (
    <section class="card replication-rule" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>
        <span class="mono">{rule.name}</span>
      </h2>
      <RuleSource rule={rule} />
      <dl class="facts">
        <dt>Direction</dt>
        <dd>{pull ? 'Pull: from the remote into berth' : 'Push: from berth to the remote'}</dd>
        <dt>Remote</dt>
        <dd>
          <span class="mono">{rule.remote.url}</span>
          {rule.remote.insecure && ' (plain HTTP)'}
          {rule.remote.username === null ? ', anonymously' : <>, as <span class="mono">{rule.remote.username}</span></>}
        </dd>
        {rule.remoteprefix !== null && (
          <>
            <dt>Remote prefix</dt>
            <dd>
              <code>{rule.remoteprefix}/</code> before each repository&apos;s name at the remote
            </dd>
          </>
        )}
        <dt>Repositories</dt>
        <dd>
          <Patterns patterns={rule.filters.repositories} />
        </dd>
        <dt>Tags</dt>
        <dd>
          <Patterns patterns={rule.filters.tags} />
        </dd>
        <dt>Platforms</dt>
        <dd>{rule.filters.platforms === null ? 'every platform' : <Patterns patterns={rule.filters.platforms} />}</dd>
        <dt>Schedule</dt>
        <dd>
          {rule.trigger.schedule === null ? (
            'none: by hand only'
          ) : (
            <>
              <code>{rule.trigger.schedule}</code> (UTC); next run <Time at={rule.trigger.next} fallback="not planned" />
            </>
          )}
        </dd>
        <dt>On push</dt>
        <dd>{rule.trigger.onpush ? 'yes: each tag is copied as it is pushed here' : 'no'}</dd>
        <dt>Deletes</dt>
        <dd>{rule.deletes ? 'yes: tags the source no longer has are deleted at the destination' : 'no'}</dd>
        <dt>Copies</dt>
        <dd>
          {plural(rule.parallel, 'blob')} and {plural(rule.concurrency, 'image')} at once;{' '}
          {rule.bandwidth === null ? 'no bandwidth limit' : <>at most <span class="mono">{bandwidthText(rule.bandwidth)}</span> a second</>}
        </dd>
        <dt>Last run</dt>
        <dd>
          <LastRun run={rule.lastRun} />
        </dd>
      </dl>
      <div class="actions replication-actions">
        <button type="button" class="button" disabled={busy || running || rule.problem !== null} aria-busy={busy} onClick={() => void runNow()}>
          Run now
        </button>
        <button type="button" class="button secondary" aria-expanded={open} aria-controls={`${id}-runs`} onClick={() => setOpen(!open)}>
          {open ? 'Hide runs' : 'Show runs'}
        </button>
        {mine && (
          <>
            <button ref={editButton} type="button" class="button secondary" aria-label={`Edit rule ${rule.name}`} onClick={() => setEditing(true)}>
              Edit
            </button>
            <button type="button" class="button danger-outline" aria-label={`Delete rule ${rule.name}`} onClick={() => setDeleting(true)}>
              Delete
            </button>
          </>
        )}
      </div>
      <p class="form-error" role="alert">
        {error}
      </p>
      <div id={`${id}-runs`} hidden={!open}>
        {open && (
          <>
            <h3>Runs of {rule.name}</h3>
            <RulesRuns rule={rule} />
          </>
        )}
      </div>
      {deleting && (
        <ConfirmDialog
          title={`Delete replication rule ${rule.name}?`}
          confirmLabel="Delete rule"
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            await deleteReplicationRule(rule.name);
            notify(`Replication rule ${rule.name} deleted`);
            onDeleted();
          }}
        >
          <p>
            Its runs are deleted with it, and a run still going stops. Images it has copied stay where they are.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

/** "Add rule", and the form it opens. */
function AddRule({ onAdded }: { onAdded: () => void }) {
  const [adding, setAdding] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const close = (): void => {
    setAdding(false);
    setTimeout(() => button.current?.focus(), 0);
  };
  if (!adding) {
    return (
      <div class="actions gc-hint">
        <button ref={button} type="button" class="button" onClick={() => setAdding(true)}>
          Add rule
        </button>
      </div>
    );
  }
  return (
    <section class="card replication-rule" aria-labelledby="replication-new-title">
      <h2 id="replication-new-title">New replication rule</h2>
      <ReplicationRuleForm
        onCancel={close}
        onSaved={() => {
          close();
          onAdded();
        }}
      />
    </section>
  );
}

export function Replication() {
  const rules = useAsync((signal) => listReplication(signal), []);
  const data = rules.data;
  const running = data?.some((r) => r.lastRun?.status === 'running') ?? false;
  // a deleted rule's card goes with the focus it had: the page's heading takes it
  const [deleted, setDeleted] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (deleted === undefined || data === undefined || data.some((r) => r.name === deleted)) return;
    setDeleted(undefined);
    document.querySelector<HTMLElement>('h1')?.focus();
  }, [data, deleted]);
  useEffect(() => {
    if (!running) return undefined;
    const timer = setInterval(rules.reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [running]);

  if (rules.error !== undefined && data === undefined) return <ErrorNotice error={rules.error} what="see replication" retry={rules.reload} />;
  if (data === undefined) return <Loading />;
  if (data.length === 0) {
    return (
      <>
        <NoRules />
        <AddRule onAdded={rules.reload} />
      </>
    );
  }
  const started = (run: ReplicationRun): void => {
    rules.setData(data.map((r) => (r.name === run.rule ? { ...r, lastRun: run } : r)));
    rules.reload();
  };
  return (
    <>
      <p class="hint gc-hint">
        Rules of the configuration&apos;s <code>replication.rules</code>, and those made here or with <code>berth replication add</code> (docs/replication.md). Each
        runs by hand here or with <code>berth replication trigger</code>, on its schedule, and (push rules) as images are pushed.
        {running && ' A run is going on: its progress is refreshed every 2 seconds.'}
      </p>
      <AddRule onAdded={rules.reload} />
      {rules.error !== undefined && <ErrorNotice error={rules.error} retry={rules.reload} />}
      {data.map((rule) => (
        <Rule
          key={rule.name}
          rule={rule}
          onStarted={started}
          onBusy={rules.reload}
          onChanged={rules.reload}
          onDeleted={() => {
            setDeleted(rule.name);
            rules.reload();
          }}
        />
      ))}
    </>
  );
}
