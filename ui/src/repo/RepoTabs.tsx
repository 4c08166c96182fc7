import { Link, repoHref } from '../components/Link.tsx';

export type RepoTab = 'overview' | 'builds' | 'settings';

/** Overview, Builds (automated repositories, and for administrators) and Settings (writers and administrators) of a repository. */
export function RepoTabs({ name, current, showSettings, showBuilds = false }: { name: string; current: RepoTab; showSettings: boolean; showBuilds?: boolean }) {
  if (!showSettings && !showBuilds && current === 'overview') return null;
  return (
    <nav class="tabs" aria-label={`${name} pages`}>
      <Link href={repoHref(name)} aria-current={current === 'overview' ? 'page' : undefined}>
        Overview
      </Link>
      {(showBuilds || current === 'builds') && (
        <Link href={`${repoHref(name)}/builds`} aria-current={current === 'builds' ? 'page' : undefined}>
          Builds
        </Link>
      )}
      {showSettings && (
        <Link href={`${repoHref(name)}/settings`} aria-current={current === 'settings' ? 'page' : undefined}>
          Settings
        </Link>
      )}
    </nav>
  );
}
