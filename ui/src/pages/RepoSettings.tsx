/** /r/:name/settings : visibility (administrators), descriptions (writers), retention and deletion (administrators). */
import { getRepository } from '../api/repositories.ts';
import { Link, repoHref } from '../components/Link.tsx';
import { Loading } from '../components/Loading.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { may, useSession } from '../lib/session.tsx';
import { DeleteRepository } from '../repo/DeleteRepository.tsx';
import { DescriptionForm } from '../repo/DescriptionForm.tsx';
import { repoName } from '../repo/params.ts';
import { RepoError } from '../repo/RepoError.tsx';
import { RepoTabs } from '../repo/RepoTabs.tsx';
import { RetentionPanel } from '../retention/RetentionPanel.tsx';
import { VisibilityForm } from '../repo/VisibilityForm.tsx';

export default function RepoSettingsPage({ params }: { params: { name?: string } }) {
  const name = repoName(params.name);
  const session = useSession();
  const result = useAsync((signal) => getRepository(name, signal), [name]);
  const repo = result.data;
  const title = `Settings of ${name}`;

  if (result.error !== undefined) {
    return (
      <div class="page">
        <RepoError error={result.error} what={`repository ${name}`} heading={title} retry={result.reload} />
      </div>
    );
  }
  if (repo === undefined || session.session === undefined) {
    return (
      <div class="page">
        <PageHeading>{title}</PageHeading>
        <Loading />
      </div>
    );
  }
  const canAdmin = may(session, repo.actions, 'admin');
  const canDescribe = may(session, repo.actions, 'push');
  return (
    <div class="page">
      <PageHeading title={title}>
        Settings of <Link href={repoHref(name)}>{name}</Link>
      </PageHeading>
      <RepoTabs name={name} current="settings" showSettings showBuilds={repo.isAutomated || canAdmin} />
      {!canAdmin && !canDescribe && (
        <p class="notice">
          You may not change this repository. {session.user === null && <Link href={`/signin?next=${encodeURIComponent(`${repoHref(name)}/settings`)}`}>Sign in</Link>}
        </p>
      )}
      {canAdmin && (
        <section class="section-block" aria-labelledby="visibility-title">
          <h2 id="visibility-title">Visibility</h2>
          <VisibilityForm repo={repo} onSaved={(r) => result.setData({ ...repo, ...r })} />
        </section>
      )}
      {canDescribe && (
        <section class="section-block" aria-labelledby="descriptions-title">
          <h2 id="descriptions-title">Descriptions</h2>
          <DescriptionForm repo={repo} onSaved={(r) => result.setData({ ...repo, ...r })} />
        </section>
      )}
      {canAdmin && <RetentionPanel name={name} />}
      {canAdmin && <DeleteRepository name={name} namespace={repo.namespace} />}
    </div>
  );
}
