import { Link, repoHref } from '../components/Link.tsx';

/** Overview and (for writers and administrators) Settings of a repository. */
export function RepoTabs({ name, current, showSettings }: { name: string; current: 'overview' | 'settings'; showSettings: boolean }) {
  if (!showSettings && current === 'overview') return null;
  return (
    <nav class="tabs" aria-label={`${name} pages`}>
      <Link href={repoHref(name)} aria-current={current === 'overview' ? 'page' : undefined}>
        Overview
      </Link>
      {showSettings && (
        <Link href={`${repoHref(name)}/settings`} aria-current={current === 'settings' ? 'page' : undefined}>
          Settings
        </Link>
      )}
    </nav>
  );
}
