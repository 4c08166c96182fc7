/**
 * The meta store on PostgreSQL, for several berth nodes sharing one database: the twin of
 * sqlite/sqlite-store.ts, with the same answers, orders and times. What SQLite gets from running
 * one transaction at a time, this gets from the database: every insert that may meet another
 * node's is an ON CONFLICT upsert (no unique violation reaches a caller), and every transaction
 * that changes a repository's manifests or tags locks the repository's row first, so those run
 * one at a time per repository, in the same order on every node (meta-statements.ts).
 * Every commit is durable (PostgreSQL's synchronous_commit), so persistUpload has nothing to do.
 */
import type { AccessFilter } from '../../auth/visibility.ts';
import { randomUUID } from 'node:crypto';
import { MissingReferenceError, StillReferencedError, type BlobRecord, type JournaledBlob, type LinkOptions, type ManifestRecord, type MetaStore, type NewManifest, type Page, type PutManifestOptions, type RepositoryTimes, type TagPage, type TagQuery, type UploadSession } from '../store.ts';
import { manifestVerdict, type GcRules } from '../gc.ts';
import { GC_SQL, toManifestFacts } from '../rows/gc.ts';
import { REFERENCE_SQL } from '../rows/references.ts';
import type { PgDatabase, Queryable } from './database.ts';
import { SQL } from './meta-statements.ts';
import { toManifest, type ManifestRow } from '../rows/manifests.ts';
import { named, type NamedParams } from './named.ts';
import { containsPattern, tagQueries, toTagged, type TaggedRow } from '../rows/tags.ts';
import { catalogQuery } from './visibility-sql.ts';

/** The tag queries with their sums cast back to BIGINT (PostgreSQL sums BIGINT into NUMERIC, read by pg as a string). */
const TAGS = tagQueries('::bigint');

/** LIMIT NULL is PostgreSQL's "no limit". */
function limitOf(page: Page): number | null {
  return page.n ?? null;
}

export interface PgMetaStoreOptions {
  /** The clock of the times recorded (pushes, tags, repositories); Date.now unless given (tests). */
  now?: () => number;
}

export class PgMetaStore implements MetaStore {
  private readonly now: () => number;

  constructor(
    private readonly db: PgDatabase,
    opts: PgMetaStoreOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  private all<R extends object>(sql: string, params: NamedParams, on?: Queryable): Promise<R[]> {
    const q = named(sql, params);
    return this.db.rows<R>(q.text, q.values, on);
  }

  private one<R extends object>(sql: string, params: NamedParams, on?: Queryable): Promise<R | undefined> {
    const q = named(sql, params);
    return this.db.one<R>(q.text, q.values, on);
  }

  /** Rows changed by a statement. */
  private async run(sql: string, params: NamedParams, on: Queryable = this.db): Promise<number> {
    const q = named(sql, params);
    return (await on.query(q.text, q.values)).rowCount ?? 0;
  }

  private async repoId(repo: string, on?: Queryable): Promise<number | undefined> {
    return (await this.one<{ id: number }>(SQL.repoId, { repo }, on))?.id;
  }

  async getRepositoryBlob(repo: string, digest: string): Promise<BlobRecord | undefined> {
    return this.one<BlobRecord>(SQL.repoBlob, { repo, digest });
  }

  async getBlob(digest: string): Promise<BlobRecord | undefined> {
    return this.one<BlobRecord>(SQL.blob, { digest });
  }

  async findLinkedBlob(digest: string): Promise<BlobRecord | undefined> {
    return this.one<BlobRecord>(SQL.linkedBlob, { digest });
  }

  async linkBlob(repo: string, blob: BlobRecord, opts: LinkOptions = {}): Promise<void> {
    const now = this.now();
    await this.db.transaction(async (tx) => {
      // Its own statement: the link's snapshot, taken after it, sees the row another node may have inserted.
      await this.run(SQL.ensureRepo, { repo, now }, tx);
      await this.run(SQL.linkBlob, { repo, digest: blob.digest, size: blob.size, now }, tx);
      if (opts.completedUpload !== undefined) await this.run(SQL.deleteUpload, { id: opts.completedUpload }, tx);
      if (opts.journal !== undefined) await this.run(SQL.journalBlob, { digest: blob.digest, data: opts.journal, now }, tx);
      if (opts.writeToken !== undefined) await this.run(GC_SQL.endWrite, { token: opts.writeToken }, tx);
    });
  }

  async linkExisting(repo: string, digest: string): Promise<BlobRecord | undefined> {
    const now = this.now();
    return this.db.transaction(async (tx) => {
      // the row shared until commit: a collection cannot mark the blob between the check and the link
      if ((await this.all(SQL.shareBlobs, { digests: [digest] }, tx)).length === 0) return undefined;
      const blob = await this.one<BlobRecord>(SQL.blob, { digest }, tx);
      if (blob === undefined) return undefined;
      await this.run(SQL.ensureRepo, { repo, now }, tx);
      await this.run(SQL.linkBlob, { repo, digest, size: blob.size, now }, tx);
      return blob;
    });
  }

  async beginBlobWrite(digest: string): Promise<string | undefined> {
    const now = this.now();
    return this.db.transaction(async (tx) => {
      await this.run(SQL.digestLockShared, { digest }, tx);
      const mark = await this.one<{ expiresAt: number }>(GC_SQL.deletingMark, { digest }, tx);
      if (mark !== undefined && Number(mark.expiresAt) > now) return undefined;
      // a mark past its expiry protects a deletion no more: its collector died or gave up
      if (mark !== undefined) await this.run(GC_SQL.unmark, { digest }, tx);
      const token = randomUUID();
      await this.run(GC_SQL.beginWrite, { token, digest, now }, tx);
      return token;
    });
  }

  async endBlobWrite(token: string): Promise<void> {
    await this.run(GC_SQL.endWrite, { token });
  }

  /** Under the repository's lock, which a manifest push takes too: the holder check sees any push committed before it. */
  async unlinkBlob(repo: string, digest: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const row = await this.one<{ id: number }>(SQL.lockRepo, { repo }, tx);
      if (row === undefined) return false;
      if ((await this.run(SQL.unlinkBlob, { id: row.id, digest }, tx)) === 0) return false;
      const holder = await this.one<{ digest: string }>(REFERENCE_SQL.blobHolder, { repositoryId: row.id, digest }, tx);
      // thrown inside the transaction: the link comes back
      if (holder !== undefined) throw new StillReferencedError(digest, 'blob', holder.digest);
      return true;
    });
  }

  async putManifest(repo: string, m: NewManifest, tag?: string, opts: PutManifestOptions = {}): Promise<void> {
    const now = this.now();
    await this.db.transaction(async (tx) => {
      const row = await this.one<{ id: number }>(SQL.pushRepo, { repo, now }, tx);
      if (row === undefined) throw new Error(`repository ${repo} vanished`);
      const { id } = row;
      if (opts.verifyReferences === true) await this.verifyReferences(id, m, tx);
      if (opts.writeToken !== undefined) await this.run(GC_SQL.endWrite, { token: opts.writeToken }, tx);
      await this.run(SQL.linkBlob, { repo, digest: m.digest, size: m.size, now }, tx);
      const annotations = m.annotations === null ? null : JSON.stringify(m.annotations);
      const { digest, mediaType, artifactType, size, subject, createdAt } = m;
      await this.run(SQL.insertManifest, { id, digest, mediaType, artifactType, size, subject, annotations, createdAt }, tx);
      if (m.blobs.length > 0) await this.run(SQL.insertReferences, { id, digest, children: m.blobs, kind: 'blob' }, tx);
      if (m.children.length > 0) await this.run(SQL.insertReferences, { id, digest, children: m.children, kind: 'manifest' }, tx);
      if (tag !== undefined) await this.run(SQL.upsertTag, { id, tag, digest, now }, tx);
    });
  }

  /**
   * Every blob the manifest references is linked to the repository and every child is in it, with
   * the blobs' rows shared until commit, so a collection marks none of them meanwhile (it would
   * wait, then see the references); children are safe under the repository's lock (pushRepo).
   */
  private async verifyReferences(id: number, m: NewManifest, tx: Queryable): Promise<void> {
    if (m.blobs.length > 0) {
      await this.all(SQL.shareBlobs, { digests: m.blobs }, tx);
      const linked = new Set((await this.all<{ digest: string }>(SQL.repoLinks, { id, digests: m.blobs }, tx)).map((r) => r.digest));
      const missing = m.blobs.find((b) => !linked.has(b));
      if (missing !== undefined) throw new MissingReferenceError(missing, 'blob');
    }
    if (m.children.length > 0) {
      const present = new Set((await this.all<{ digest: string }>(SQL.repoManifests, { id, digests: m.children }, tx)).map((r) => r.digest));
      const missing = m.children.find((c) => !present.has(c));
      if (missing !== undefined) throw new MissingReferenceError(missing, 'manifest');
    }
  }

  async getManifest(repo: string, digest: string): Promise<ManifestRecord | undefined> {
    const row = await this.one<ManifestRow>(SQL.manifest, { repo, digest });
    return row && toManifest(row);
  }

  async resolveTag(repo: string, tag: string): Promise<ManifestRecord | undefined> {
    const row = await this.one<ManifestRow>(SQL.tagManifest, { repo, tag });
    return row && toManifest(row);
  }

  /**
   * Delete under the repository's lock, then touch the repository if anything went; with
   * `collectable`, only if garbage collection's rules collect the manifest, judged under the lock;
   * `check` may refuse what went by throwing (the transaction rolls back).
   */
  private removeLocked(
    repo: string,
    sql: string,
    params: NamedParams,
    collectable?: GcRules,
    check?: (id: number, tx: Queryable) => Promise<void>,
  ): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const row = await this.one<{ id: number }>(SQL.lockRepo, { repo }, tx);
      if (row === undefined) return false;
      if (collectable !== undefined) {
        const facts = toManifestFacts(await this.one<Record<string, unknown>>(GC_SQL.manifestFacts, { repositoryId: row.id, digest: params.digest }, tx));
        const verdict = manifestVerdict(facts, collectable);
        if (verdict === 'keep' || verdict === 'drop') return false;
      }
      const gone = (await this.run(sql, { id: row.id, ...params }, tx)) > 0;
      if (!gone) return false;
      await check?.(row.id, tx);
      await this.run(SQL.touchRepo, { id: row.id, now: this.now() }, tx);
      return true;
    });
  }

  async deleteManifest(repo: string, digest: string, collectable?: GcRules): Promise<boolean> {
    // an index's child goes only with its index (collection's verdict already kept it)
    return this.removeLocked(repo, SQL.deleteManifest, { digest }, collectable, async (repositoryId, tx) => {
      const parent = await this.one<{ digest: string }>(REFERENCE_SQL.parentOf, { repositoryId, digest }, tx);
      if (parent !== undefined) throw new StillReferencedError(digest, 'manifest', parent.digest);
    });
  }

  async deleteTag(repo: string, tag: string): Promise<boolean> {
    return this.removeLocked(repo, SQL.deleteTag, { tag });
  }

  async listTags(repo: string, page: Page): Promise<string[] | undefined> {
    const id = await this.repoId(repo);
    if (id === undefined) return undefined;
    return (await this.all<{ name: string }>(SQL.tags, { id, last: page.last ?? '', n: limitOf(page) })).map((r) => r.name);
  }

  async listRepositories(page: Page, visible?: AccessFilter): Promise<string[]> {
    const last = page.last ?? '';
    if (visible === undefined || visible.all) return (await this.all<{ name: string }>(SQL.repositories, { last, n: limitOf(page) })).map((r) => r.name);
    const query = catalogQuery(visible);
    return (await this.all<{ name: string }>(query.sql, { ...query.params(last, 0), n: limitOf(page) })).map((r) => r.name);
  }

  async listReferrers(repo: string, subject: string, artifactType?: string): Promise<ManifestRecord[]> {
    return (await this.all<ManifestRow>(SQL.referrers, { repo, subject, artifactType: artifactType ?? null })).map(toManifest);
  }

  async repositoryExists(repo: string): Promise<boolean> {
    return (await this.repoId(repo)) !== undefined;
  }

  async repositoryTimes(repo: string): Promise<RepositoryTimes | undefined> {
    return this.one<RepositoryTimes>(SQL.repoTimes, { repo });
  }

  async queryTags(repo: string, q: TagQuery): Promise<TagPage | undefined> {
    // One snapshot: the count and the page see the same tags.
    return this.db.transaction(async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const id = await this.repoId(repo, tx);
      if (id === undefined || (await this.one(SQL.hasManifests, { id }, tx)) === undefined) return undefined;
      const pattern = containsPattern(q.text);
      const counted = await this.one<{ n: number }>(TAGS.countTags, { repo: id, pattern }, tx);
      const n = counted?.n ?? 0;
      if (n === 0 || q.offset >= n) return { total: n, tags: [] };
      const rows = await this.all<TaggedRow>(TAGS.page(q.sort, q.order), { repo: id, pattern, limit: q.limit, offset: q.offset }, tx);
      return { total: n, tags: rows.map(toTagged) };
    });
  }

  async tagsOf(repo: string, digest: string): Promise<string[]> {
    return (await this.all<{ name: string }>(SQL.tagsOf, { repo, digest })).map((r) => r.name);
  }

  async totalSize(repo: string, digest: string): Promise<number> {
    const id = await this.repoId(repo);
    if (id === undefined) return 0;
    return (await this.one<{ size: number }>(TAGS.totalSize, { repo: id, digest }))?.size ?? 0;
  }

  async listManifests(repo: string): Promise<string[]> {
    return (await this.all<{ digest: string }>(SQL.manifestDigests, { repo })).map((r) => r.digest);
  }

  async journaledBlobs(limit: number): Promise<JournaledBlob[]> {
    return this.all<JournaledBlob>(SQL.journaled, { limit });
  }

  async clearJournal(digests: string[]): Promise<void> {
    if (digests.length > 0) await this.run(SQL.unjournal, { digests });
  }

  async createUpload(session: UploadSession): Promise<void> {
    await this.run(SQL.insertUpload, { id: session.id, repo: session.repo, startedAt: session.startedAt });
  }

  async getUpload(id: string): Promise<UploadSession | undefined> {
    return this.one<UploadSession>(SQL.upload, { id });
  }

  /** Nothing to do: the session's row was committed durably by createUpload. */
  async persistUpload(_id: string): Promise<void> {}

  async deleteUpload(id: string): Promise<boolean> {
    return (await this.run(SQL.deleteUpload, { id })) > 0;
  }

  async listUploads(startedBefore: number): Promise<UploadSession[]> {
    return this.all<UploadSession>(SQL.uploadsBefore, { before: startedBefore });
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  /** Nothing to close: the database (PgDatabase) belongs to the backend that opened it, which closes it once for all its stores. */
  async close(): Promise<void> {}
}
