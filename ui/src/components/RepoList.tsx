import type { RepositorySummary } from '../api/types.ts';
import { formatCount, plural } from '../lib/format.ts';
import { RepoBadges } from './Badges.tsx';
import { Link, repoHref } from './Link.tsx';
import { Time } from './Time.tsx';

interface Props {
  repos: RepositorySummary[];
  /** Show a "Public" badge too (namespace pages); otherwise only "Private" stands out. */
  showPublic?: boolean;
  compact?: boolean;
  empty?: string;
}

function Stat({ icon, value, unit }: { icon: string; value: number; unit: string }) {
  return (
    <span class="stat" title={plural(value, unit)}>
      <span aria-hidden="true">{icon}</span> {formatCount(value)}
      <span class="sr-only"> {value === 1 ? unit : `${unit}s`}</span>
    </span>
  );
}

export function RepoList({ repos, showPublic = false, compact = false, empty = 'No repositories.' }: Props) {
  if (repos.length === 0) return <p class="empty">{empty}</p>;
  return (
    <ul class={compact ? 'repo-list compact' : 'repo-list'}>
      {repos.map((r) => (
        <li key={r.name} class="repo-card">
          <div class="repo-card-head">
            <Link href={repoHref(r.name)} class="repo-name">
              {r.name}
            </Link>
            <RepoBadges repo={r} showPublic={showPublic} />
          </div>
          {r.description !== '' && <p class="repo-description">{r.description}</p>}
          <p class="repo-stats">
            <Stat icon="★" value={r.starCount} unit="star" />
            <Stat icon="↓" value={r.pullCount} unit="pull" />
            {r.updatedAt !== null && (
              <span class="updated">
                Updated <Time at={r.updatedAt} />
              </span>
            )}
          </p>
        </li>
      ))}
    </ul>
  );
}
