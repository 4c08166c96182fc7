/** /r/:name/builds : a repository's automated builds (queued, running with a live log, finished), and its build rules for administrators. */
import { useEffect, useState } from 'preact/hooks';
import { cancelBuild, deleteRule, FINAL, listBuilds, listRules, triggerBuild, type Build } from '../api/builds.ts';
import { isStatus } from '../api/messages.ts';
import { getRepository } from '../api/repositories.ts';
import { BuildLog } from '../builds/BuildLog.tsx';
import { RuleForm } from '../builds/RuleForm.tsx';
import { CopyButton } from '../components/CopyButton.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { Link, repoHref } from '../components/Link.tsx';
import { Loading } from '../components/Loading.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { SmallButton } from '../components/SmallButton.tsx';
import { Table } from '../components/Table.tsx';
import { Time } from '../components/Time.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { useFormAction } from '../hooks/useFormAction.ts';
import { may, useSession } from '../lib/session.tsx';
import { repoName } from '../repo/params.ts';
import { RepoTabs } from '../repo/RepoTabs.tsx';

const STATUS_CLASS: Record<Build['status'], string> = {
  queued: 'badge badge-public',
  running: 'badge badge-automated',
  succeeded: 'badge badge-official',
  failed: 'badge badge-private',
  cancelled: 'badge badge-public',
};

function Rules({ name }: { name: string }) {
  const rules = useAsync((signal) => listRules(name, signal), [name]);
  const form = useFormAction();
  return (
    <section class="section-block" aria-labelledby="rules-title">
      <h2 id="rules-title">Build rules</h2>
      {rules.error !== undefined ? (
        <ErrorNotice error={rules.error} retry={rules.reload} />
      ) : rules.data === undefined ? (
        <Loading />
      ) : rules.data.length === 0 ? (
        <p class="empty">No rules: nothing is built until one is added.</p>
      ) : (
        <Table caption="Build rules" hideCaption actions head={<><th scope="col">Source</th><th scope="col">Git repository</th><th scope="col">Tag</th><th scope="col">Webhook</th></>}>
          {rules.data.map((r) => (
            <tr key={r.id}>
              <td>
                {r.sourceType} <code>{r.source}</code>
                {r.poll && ' (polled)'}
              </td>
              <td class="mono">{r.gitUrl}</td>
              <td class="mono">{r.tag}</td>
              <td>
                <CopyButton text={r.hookUrl} label="Copy webhook URL" />
              </td>
              <td>
                <SmallButton danger label={`Remove rule ${r.source}`} onClick={() => void form.run(async () => { await deleteRule(name, r.id); rules.reload(); }, 'Rule removed')}>
                  Remove
                </SmallButton>
              </td>
            </tr>
          ))}
        </Table>
      )}
      <p class="form-error" role="alert">
        {form.error}
      </p>
      <h3>Add a rule</h3>
      <RuleForm name={name} onAdded={rules.reload} />
    </section>
  );
}

export default function RepoBuildsPage({ params }: { params: { name?: string } }) {
  const name = repoName(params.name);
  const session = useSession();
  const repo = useAsync((signal) => getRepository(name, signal), [name]);
  const builds = useAsync((signal) => listBuilds(name, signal), [name]);
  const [open, setOpen] = useState<number | undefined>(undefined);
  const action = useFormAction();
  const active = builds.data?.some((b) => !FINAL.has(b.status)) ?? false;
  useEffect(() => {
    if (!active) return undefined;
    const timer = setInterval(builds.reload, 3000);
    return () => clearInterval(timer);
  }, [active]);
  const title = `Builds of ${name}`;
  const error = repo.error ?? builds.error;
  if (error !== undefined) {
    return (
      <div class="page">
        <PageHeading>{title}</PageHeading>
        {isStatus(error, 404) && repo.error === undefined ? <p class="notice">Automated builds are off on this registry (builds.enabled).</p> : <ErrorNotice error={error} what={`the builds of ${name}`} retry={builds.reload} />}
      </div>
    );
  }
  if (repo.data === undefined || builds.data === undefined || session.session === undefined) {
    return (
      <div class="page">
        <PageHeading>{title}</PageHeading>
        <Loading />
      </div>
    );
  }
  const canPush = may(session, repo.data.actions, 'push');
  const canAdmin = may(session, repo.data.actions, 'delete');
  return (
    <div class="page">
      <PageHeading title={title}>
        Builds of <Link href={repoHref(name)}>{name}</Link>
      </PageHeading>
      <RepoTabs name={name} current="builds" showSettings={canAdmin || canPush} showBuilds />
      <section aria-labelledby="builds-title">
        <h2 id="builds-title">Builds</h2>
        {canPush && (
          <div class="actions">
            <button type="button" class="button" disabled={action.busy} onClick={() => void action.run(async () => { await triggerBuild(name); builds.reload(); }, 'Build queued')}>
              Build now
            </button>
          </div>
        )}
        <p class="form-error" role="alert">
          {action.error}
        </p>
        {builds.data.length === 0 ? (
          <p class="empty">No builds yet.</p>
        ) : (
          <Table caption="Builds, newest first" hideCaption actions head={<><th scope="col">Build</th><th scope="col">Status</th><th scope="col">Source</th><th scope="col">Tag</th><th scope="col">Started</th><th scope="col">Result</th></>}>
            {builds.data.map((b) => (
              <>
                <tr key={b.id}>
                  <td>#{b.id}</td>
                  <td>
                    <span class={STATUS_CLASS[b.status]}>{b.status}</span>
                  </td>
                  <td>
                    {b.ref}
                    {b.commit !== null && <span class="mono"> {b.commit.slice(0, 12)}</span>}
                  </td>
                  <td class="mono">{b.tag}</td>
                  <td>
                    <Time at={b.started ?? b.created} />
                  </td>
                  <td class="mono">{b.digest !== null ? b.digest.slice(0, 19) : (b.error ?? '')}</td>
                  <td>
                    <SmallButton label={`${open === b.id ? 'Hide' : 'Show'} the log of build ${b.id}`} onClick={() => setOpen(open === b.id ? undefined : b.id)}>
                      {open === b.id ? 'Hide log' : 'Log'}
                    </SmallButton>{' '}
                    {canPush && !FINAL.has(b.status) && (
                      <SmallButton danger label={`Cancel build ${b.id}`} onClick={() => void action.run(async () => { await cancelBuild(name, b.id); builds.reload(); }, `Build ${b.id} cancelled`)}>
                        Cancel
                      </SmallButton>
                    )}
                  </td>
                </tr>
                {open === b.id && (
                  <tr key={`${b.id}-log`}>
                    <td colSpan={7}>
                      <BuildLog name={name} build={b} onEnded={builds.reload} />
                    </td>
                  </tr>
                )}
              </>
            ))}
          </Table>
        )}
      </section>
      {canAdmin && <Rules name={name} />}
    </div>
  );
}
