import type { RepositorySummary, Visibility } from '../api/types.ts';

export function Badge({ kind, children }: { kind: string; children: string }) {
  return <span class={`badge badge-${kind}`}>{children}</span>;
}

export function VisibilityBadge({ visibility, showPublic = true }: { visibility: Visibility | undefined; showPublic?: boolean }) {
  if (visibility === 'private') return <Badge kind="private">Private</Badge>;
  if (visibility === 'public' && showPublic) return <Badge kind="public">Public</Badge>;
  return null;
}

/** Official, Automated and visibility badges of a repository (Public only when asked; none with `visibility={false}`). */
export function RepoBadges({ repo, showPublic = false, visibility = true }: { repo: RepositorySummary; showPublic?: boolean; visibility?: boolean }) {
  return (
    <span class="badges">
      {repo.isOfficial && <Badge kind="official">Official</Badge>}
      {repo.isAutomated && <Badge kind="automated">Automated</Badge>}
      {visibility && <VisibilityBadge visibility={repo.visibility} showPublic={showPublic} />}
    </span>
  );
}
