/**
 * The SQL of the tag activity stores (sqlite/tag-activity.ts, postgres/tag-activity.ts), written
 * once: `p(n)` is a dialect's n-th parameter (`?` or `$n`). Times are BIGINT columns, read as
 * numbers through `Number` (PostgreSQL's driver hands them over as text).
 */
import type { TagActivity, UntaggedManifest } from '../tag-activity.ts';

export function tagActivitySql(p: (n: number) => string, greatest: 'MAX' | 'GREATEST'): { activity: string; untagged: string; prune: string } {
  return {
    activity: `SELECT t.name AS tag, t.manifest_digest AS digest, t.updated_at AS pushed_at, t.pulled_at
      FROM tags t JOIN repositories r ON r.id = t.repository_id WHERE r.name = ${p(1)} ORDER BY t.name`,
    // Untagged long enough (since the later of its push and the loss of its last tag), not a child of
    // one of the repository's indexes, not a referrer of a subject still here.
    untagged: `SELECT m.digest, m.media_type, m.size, m.created_at, ${greatest}(m.created_at, COALESCE(u.at, 0)) AS untagged_at
      FROM manifests m JOIN repositories r ON r.id = m.repository_id
      LEFT JOIN manifest_untagged u ON u.repository_id = m.repository_id AND u.digest = m.digest
      WHERE r.name = ${p(1)} AND ${greatest}(m.created_at, COALESCE(u.at, 0)) < ${p(2)}
        AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = m.repository_id AND t.manifest_digest = m.digest)
        AND NOT EXISTS (SELECT 1 FROM manifest_references c
          WHERE c.repository_id = m.repository_id AND c.child_digest = m.digest AND c.kind = 'manifest')
        AND NOT EXISTS (SELECT 1 FROM manifests s WHERE s.repository_id = m.repository_id AND s.digest = m.subject_digest)
      ORDER BY 5, m.digest`,
    prune: `DELETE FROM manifest_untagged WHERE NOT EXISTS
      (SELECT 1 FROM manifests m WHERE m.repository_id = manifest_untagged.repository_id AND m.digest = manifest_untagged.digest)`,
  };
}

export interface TagActivityRow {
  tag: string;
  digest: string;
  pushed_at: number | string;
  pulled_at: number | string | null;
}

export interface UntaggedRow {
  digest: string;
  media_type: string;
  size: number | string;
  created_at: number | string;
  untagged_at: number | string;
}

export function toTagActivity(r: TagActivityRow): TagActivity {
  return { tag: r.tag, digest: r.digest, pushedAt: Number(r.pushed_at), pulledAt: r.pulled_at === null ? null : Number(r.pulled_at) };
}

export function toUntagged(r: UntaggedRow): UntaggedManifest {
  return { digest: r.digest, mediaType: r.media_type, size: Number(r.size), createdAt: Number(r.created_at), untaggedAt: Number(r.untagged_at) };
}
