/**
 * Tag activity on PostgreSQL, the twin of sqlite/tag-activity.ts: last-pull times in
 * tags.pulled_at (migration 12), a batch of pulls written by one UPDATE in one transaction whose
 * rows are locked in key order first, so two nodes stamping the same tags never deadlock.
 */
import { isDigestReference, type TagActivity, type TagActivityStore, type TagPull, type UntaggedManifest } from '../tag-activity.ts';
import { tagActivitySql, toTagActivity, toUntagged, type TagActivityRow, type UntaggedRow } from '../rows/tag-activity.ts';
import type { PgDatabase } from './database.ts';

const SQL = tagActivitySql((n) => `$${n}`, 'GREATEST');

/** The tags a batch names: by tag name, or (`by_digest`) every tag on the digest. */
const BATCH = `unnest($1::text[], $2::text[], $3::boolean[], $4::bigint[]) AS p(repository, reference, by_digest, at)
  JOIN repositories r ON r.name = p.repository`;
const MATCH = 't.repository_id = r.id AND (CASE WHEN p.by_digest THEN t.manifest_digest ELSE t.name END) = p.reference';

export class PgTagActivity implements TagActivityStore {
  constructor(private readonly db: PgDatabase) {}

  async recordPulls(pulls: readonly TagPull[]): Promise<void> {
    if (pulls.length === 0) return;
    const params = [pulls.map((p) => p.repository), pulls.map((p) => p.reference), pulls.map((p) => isDigestReference(p.reference)), pulls.map((p) => p.at)];
    await this.db.transaction(async (tx) => {
      await tx.query(`SELECT 1 FROM tags t, ${BATCH} WHERE ${MATCH} ORDER BY t.repository_id, t.name FOR UPDATE OF t`, params);
      await tx.query(
        `UPDATE tags t SET pulled_at = GREATEST(COALESCE(t.pulled_at, 0), s.at)
         FROM (SELECT t.repository_id, t.name, MAX(p.at) AS at FROM tags t, ${BATCH} WHERE ${MATCH} GROUP BY 1, 2) s
         WHERE t.repository_id = s.repository_id AND t.name = s.name`,
        params,
      );
    });
  }

  async tagActivity(repo: string): Promise<TagActivity[]> {
    return (await this.db.rows<TagActivityRow>(SQL.activity, [repo])).map(toTagActivity);
  }

  async untaggedManifests(repo: string, untaggedBefore: number): Promise<UntaggedManifest[]> {
    return (await this.db.rows<UntaggedRow>(SQL.untagged, [repo, untaggedBefore])).map(toUntagged);
  }

  async pruneUntagged(): Promise<number> {
    return (await this.db.query(SQL.prune)).rowCount ?? 0;
  }
}
