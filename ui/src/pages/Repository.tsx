/** /r/:name : a repository's descriptions, star, pull command and tags. */
import { useState } from 'preact/hooks';
import { getRepository } from '../api/repositories.ts';
import type { Repository, Tag } from '../api/types.ts';
import { VisibilityBadge, RepoBadges } from '../components/Badges.tsx';
import { Link } from '../components/Link.tsx';
import { Loading } from '../components/Loading.tsx';
import { Markdown } from '../components/Markdown.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { Time } from '../components/Time.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { plural } from '../lib/format.ts';
import { may, useSession } from '../lib/session.tsx';
import { PullCommand } from '../repo/PullCommand.tsx';
import { RepoTabs } from '../repo/RepoTabs.tsx';
import { StarButton } from '../repo/StarButton.tsx';
import { TagsTable } from '../repo/TagsTable.tsx';
import { repoName } from '../repo/params.ts';
import { RepoError } from '../repo/RepoError.tsx';

function pullTag(tags: Tag[]): string {
  return tags.some((t) => t.name === 'latest') ? 'latest' : (tags[0]?.name ?? 'latest');
}

function Overview({ repo, canDescribe }: { repo: Repository; canDescribe: boolean }) {
  const text = repo.fullDescription ?? '';
  return (
    <section aria-labelledby="overview-title">
      <h2 id="overview-title">Overview</h2>
      {text.trim() === '' ? (
        <p class="empty">
          No description yet.
          {canDescribe && (
            <>
              {' '}
              <Link href={`/r/${repo.name}/settings`}>Write one</Link>
            </>
          )}
        </p>
      ) : (
        <Markdown source={text} />
      )}
    </section>
  );
}

export default function RepositoryPage({ params }: { params: { name?: string } }) {
  const name = repoName(params.name);
  const session = useSession();
  const [tag, setTag] = useState('latest');
  const result = useAsync((signal) => getRepository(name, signal), [name]);
  const repo = result.data;

  const canDelete = repo !== undefined && may(session, repo.actions, 'delete');
  const canDescribe = repo !== undefined && may(session, repo.actions, 'push');
  const canAdmin = repo !== undefined && may(session, repo.actions, 'admin');

  if (result.error !== undefined) {
    return (
      <div class="page">
        <RepoError error={result.error} what={`repository ${name}`} heading={name} retry={result.reload} />
      </div>
    );
  }

  return (
    <div class="page">
      <div class="repo-header">
        <PageHeading>{name}</PageHeading>
        {repo !== undefined && (
          <>
            <VisibilityBadge visibility={repo.visibility} />
            <RepoBadges repo={repo} visibility={false} />
          </>
        )}
      </div>
      {repo === undefined ? (
        <Loading />
      ) : (
        <>
          {repo.description !== undefined && repo.description !== '' && <p class="lead">{repo.description}</p>}
          <div class="repo-summary">
            <StarButton name={name} starred={repo.starred ?? false} count={repo.starCount ?? 0} />
            <span>{plural(repo.pullCount ?? 0, 'pull')}</span>
            {repo.updatedAt !== null && (
              <span>
                Updated <Time at={repo.updatedAt} />
              </span>
            )}
          </div>
          <RepoTabs name={name} current="overview" showSettings={canAdmin || canDescribe} showBuilds={repo.isAutomated || canAdmin} />
          <div class="repo-layout">
            <aside class="card side-box" aria-labelledby="pull-title">
              <h2 id="pull-title">Pull this image</h2>
              <PullCommand name={name} tag={tag} />
              <dl class="facts">
                {repo.namespace !== '' && (
                  <>
                    <dt>Owner</dt>
                    <dd>
                      <Link href={`/u/${encodeURIComponent(repo.namespace)}`}>{repo.namespace}</Link>
                    </dd>
                  </>
                )}
                <dt>Created</dt>
                <dd>
                  <Time at={repo.createdAt} />
                </dd>
              </dl>
            </aside>
            <Overview repo={repo} canDescribe={canDescribe} />
          </div>
          <section aria-labelledby="tags-title">
            <h2 id="tags-title">Tags</h2>
            <TagsTable name={name} canDelete={canDelete} onFirstLoad={(tags) => setTag(pullTag(tags))} />
          </section>
        </>
      )}
    </div>
  );
}
