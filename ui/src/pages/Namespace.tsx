/** /u/:namespace : a user's or an organisation's repositories, most recently pushed first. */
import { useSearch } from 'wouter-preact';
import { search } from '../api/repositories.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { Link } from '../components/Link.tsx';
import { Loading } from '../components/Loading.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { Pager } from '../components/Pager.tsx';
import { RepoList } from '../components/RepoList.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { registryHost } from '../lib/base.ts';
import { plural } from '../lib/format.ts';
import { useSession } from '../lib/session.tsx';
import { NamespaceStorage } from '../quota/NamespaceStorage.tsx';

const PER_PAGE = 50;

export default function NamespacePage({ params }: { params: { namespace?: string } }) {
  const namespace = params.namespace ?? '';
  const page = Math.max(1, Number(new URLSearchParams(useSearch()).get('page') ?? '1') || 1);
  const { user, isAdmin } = useSession();
  const result = useAsync(
    (signal) => search({ namespace, sort: 'updated', page, per_page: PER_PAGE }, signal),
    [namespace, page],
  );
  const mine = user !== null && user.name === namespace;
  const myOrg = user !== null && user.orgs.includes(namespace);

  return (
    <div class="page">
      <PageHeading>{namespace}</PageHeading>
      {(mine || myOrg) && (
        <p class="actions">
          {mine && <Link href="/settings">Account settings</Link>}
          {myOrg && <Link href={`/orgs/${encodeURIComponent(namespace)}`}>Organisation settings</Link>}
        </p>
      )}
      {(mine || myOrg || isAdmin) && <NamespaceStorage namespace={namespace} />}
      <h2>Repositories</h2>
      <div aria-busy={result.loading}>
        {result.error !== undefined ? (
          <ErrorNotice error={result.error} retry={result.reload} what="see these repositories" />
        ) : result.data === undefined ? (
          <Loading />
        ) : (
          <>
            <p class="result-count">{plural(result.data.total, 'repository', 'repositories')}</p>
            <RepoList
              repos={result.data.results}
              showPublic
              empty={
                mine
                  ? `Nothing here yet. Push an image: docker push ${registryHost()}/${namespace}/app:1.0`
                  : 'No repositories you can see here.'
              }
            />
            <Pager
              page={page}
              pages={result.data.pages}
              label={`Pages of ${namespace}'s repositories`}
              hrefFor={(p) => `/u/${encodeURIComponent(namespace)}${p > 1 ? `?page=${p}` : ''}`}
            />
          </>
        )}
      </div>
    </div>
  );
}
