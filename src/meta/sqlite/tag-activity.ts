/**
 * Tag activity on SQLite (meta/tag-activity.ts): last-pull times in tags.pulled_at (migration 14),
 * a batch of pulls written in one transaction.
 */
import type Database from 'better-sqlite3';
import { isDigestReference, type TagActivity, type TagActivityStore, type TagPull, type UntaggedManifest } from '../tag-activity.ts';
import { tagActivitySql, toTagActivity, toUntagged, type TagActivityRow, type UntaggedRow } from '../rows/tag-activity.ts';

const SQL = tagActivitySql(() => '?', 'MAX');
const STAMP = `UPDATE tags SET pulled_at = @at
  WHERE repository_id = (SELECT id FROM repositories WHERE name = @repository) AND name = @reference AND (pulled_at IS NULL OR pulled_at < @at)`;
const STAMP_DIGEST = `UPDATE tags SET pulled_at = @at
  WHERE repository_id = (SELECT id FROM repositories WHERE name = @repository) AND manifest_digest = @reference AND (pulled_at IS NULL OR pulled_at < @at)`;

export class SqliteTagActivity implements TagActivityStore {
  private readonly st;

  constructor(private readonly db: Database.Database) {
    this.st = {
      stamp: db.prepare<[TagPull]>(STAMP),
      stampDigest: db.prepare<[TagPull]>(STAMP_DIGEST),
      activity: db.prepare<[string], TagActivityRow>(SQL.activity),
      untagged: db.prepare<[string, number], UntaggedRow>(SQL.untagged),
      prune: db.prepare(SQL.prune),
    };
  }

  async recordPulls(pulls: readonly TagPull[]): Promise<void> {
    if (pulls.length === 0) return;
    this.db.transaction(() => {
      for (const { repository, reference, at } of pulls) (isDigestReference(reference) ? this.st.stampDigest : this.st.stamp).run({ repository, reference, at });
    })();
  }

  async tagActivity(repo: string): Promise<TagActivity[]> {
    return this.st.activity.all(repo).map(toTagActivity);
  }

  async untaggedManifests(repo: string, untaggedBefore: number): Promise<UntaggedManifest[]> {
    return this.st.untagged.all(repo, untaggedBefore).map(toUntagged);
  }

  async pruneUntagged(): Promise<number> {
    return this.st.prune.run().changes;
  }
}
