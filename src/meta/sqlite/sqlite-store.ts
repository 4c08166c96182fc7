/**
 * The embedded meta store on SQLite (better-sqlite3: synchronous, prepared statements, the
 * fastest way to answer the registry's hot lookups). WAL journal with synchronous=FULL so a
 * committed transaction survives a crash: metadata is only ever written after the bytes it
 * describes are durable, and a push is acknowledged only after both.
 */
import Database from 'better-sqlite3';
import { beginImmediate } from './immediate.ts';
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { MissingReferenceError, StillReferencedError, type BlobRecord, type JournaledBlob, type LinkOptions, type ManifestRecord, type MetaStore, type NewManifest, type Page, type PutManifestOptions, type RepositoryTimes, type TagPage, type TagQuery, type UploadSession } from '../store.ts';
import { manifestVerdict, type GcRules } from '../gc.ts';
import { toManifestFacts } from '../rows/gc.ts';
import { MIGRATIONS } from './migrations.ts';
import { prepareStatements, type Statements } from './statements.ts';
import { toManifest } from '../rows/manifests.ts';
import { PreparedStatements } from './prepared.ts';
import { catalogQuery } from './visibility-sql.ts';
import type { AccessFilter } from '../../auth/visibility.ts';
import { containsPattern, tagQueries, toTagged, type TaggedRow } from '../rows/tags.ts';
import { relaxed } from './relaxed.ts';
import { WalSync } from './wal-sync.ts';

/** The tag queries with SQLite's sums (INTEGER already). */
const TAGS = tagQueries('');

/** A limit SQLite understands for "no limit". */
function limitOf(page: Page): number {
  return page.n === undefined ? -1 : page.n;
}

export interface SqliteMetaStoreOptions {
  /** The clock of the times recorded (pushes, tags, repositories); Date.now unless given (tests). */
  now?: () => number;
  /**
   * Open an existing, migrated database read-only (`berth events` beside a serving berth; WAL lets
   * it read while the server writes): no directory or file is created, no migration runs.
   */
  readOnly?: boolean;
  /** Replaces the group fdatasync of the WAL that makes pushes durable (tests count or hold it). */
  flushWal?: () => Promise<void>;
}

export class SqliteMetaStore implements MetaStore {
  private readonly db: Database.Database;
  private readonly st: Statements;
  /** Statements whose SQL depends on the query's shape (the tag page's sort). */
  private readonly shaped: PreparedStatements;
  private readonly now: () => number;
  /** The group flush of the WAL that linkBlob and persistUpload wait for; none in memory. */
  private readonly wal: WalSync | undefined;
  private readonly dataVersion: Database.Statement;

  constructor(file: string, opts: SqliteMetaStoreOptions = {}) {
    this.now = opts.now ?? Date.now;
    const readOnly = opts.readOnly === true;
    if (!readOnly && file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file, readOnly ? { readonly: true, fileMustExist: true } : {});
    if (!readOnly) this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    if (!readOnly) beginImmediate(this.db);
    if (readOnly) requireMigrated(this.db, file);
    else migrate(this.db);
    this.st = prepareStatements(this.db);
    this.shaped = new PreparedStatements(this.db);
    this.wal = readOnly || file === ':memory:' ? undefined : new WalSync(path.resolve(file), opts.flushWal);
    this.dataVersion = this.db.prepare('PRAGMA data_version').pluck();
  }

  /** The connection, for the stores that share this database (sqlite/backend.ts builds them on it). */
  get database(): Database.Database {
    return this.db;
  }

  externalChanges(): number {
    return this.dataVersion.get() as number;
  }

  private repoId(name: string): number | undefined {
    return this.st.repoId.get(name)?.id;
  }

  private ensureRepo(name: string, now: number): number {
    this.st.upsertRepo.run(name, now);
    const id = this.repoId(name);
    if (id === undefined) throw new Error(`repository ${name} vanished`);
    return id;
  }

  async getRepositoryBlob(repo: string, digest: string): Promise<BlobRecord | undefined> {
    return this.st.repoBlob.get(repo, digest);
  }

  async getBlob(digest: string): Promise<BlobRecord | undefined> {
    return this.st.blob.get(digest);
  }

  async linkBlob(repo: string, blob: BlobRecord, opts: LinkOptions = {}): Promise<void> {
    const now = this.now();
    await this.durably(() => {
      const id = this.ensureRepo(repo, now);
      this.st.insertBlob.run(blob.digest, blob.size, now);
      this.st.linkBlob.run(id, blob.digest, now);
      if (opts.completedUpload !== undefined) this.st.deleteUpload.run(opts.completedUpload);
      if (opts.journal !== undefined) this.st.journalBlob.run(blob.digest, opts.journal, now);
      if (opts.writeToken !== undefined) this.st.endWrite.run({ token: opts.writeToken });
    });
  }

  /**
   * Commit `fn` as one transaction, resolved once it is on disk: without blocking the event loop,
   * and sharing the WAL's flush with the transactions committed meanwhile (wal-sync.ts).
   */
  private async durably(fn: () => void): Promise<void> {
    if (this.wal === undefined) return this.db.transaction(fn)();
    relaxed(this.db, () => this.db.transaction(fn)());
    await this.wal.sync();
  }

  async linkExisting(repo: string, digest: string): Promise<BlobRecord | undefined> {
    const now = this.now();
    return this.db.transaction(() => {
      const blob = this.st.blob.get(digest);
      if (blob === undefined) return undefined;
      this.st.linkBlob.run(this.ensureRepo(repo, now), digest, now);
      return blob;
    })();
  }

  /** Immediate, so that the mark's check and the intent's insert are one step against a collection in another process. */
  async beginBlobWrite(digest: string): Promise<string | undefined> {
    const now = this.now();
    return relaxed(this.db, () =>
      this.db
        .transaction(() => {
          const mark = this.st.deletingMark.get({ digest }) as { expiresAt: number } | undefined;
          if (mark !== undefined && mark.expiresAt > now) return undefined;
          // a mark past its expiry protects a deletion no more: its collector died or gave up
          if (mark !== undefined) this.st.unmark.run({ digest });
          const token = randomUUID();
          this.st.beginWrite.run({ token, digest, now });
          return token;
        })
        .immediate(),
    );
  }

  async endBlobWrite(token: string): Promise<void> {
    relaxed(this.db, () => this.st.endWrite.run({ token }));
  }

  async journaledBlobs(limit: number): Promise<JournaledBlob[]> {
    return this.st.journaled.all(limit);
  }

  async clearJournal(digests: string[]): Promise<void> {
    relaxed(this.db, () => this.db.transaction(() => digests.forEach((d) => this.st.unjournal.run(d)))());
  }

  async unlinkBlob(repo: string, digest: string): Promise<boolean> {
    const id = this.repoId(repo);
    if (id === undefined) return false;
    return this.db.transaction(() => {
      if (this.st.unlinkBlob.run(id, digest).changes === 0) return false;
      const holder = this.st.blobHolder.get({ repositoryId: id, digest });
      // thrown inside the transaction: the link comes back
      if (holder !== undefined) throw new StillReferencedError(digest, 'blob', holder.digest);
      return true;
    })();
  }

  async putManifest(repo: string, m: NewManifest, tag?: string, opts: PutManifestOptions = {}): Promise<void> {
    const now = this.now();
    this.db.transaction(() => {
      const id = this.ensureRepo(repo, now);
      if (opts.verifyReferences === true) {
        for (const b of m.blobs) if (this.st.repoBlob.get(repo, b) === undefined) throw new MissingReferenceError(b, 'blob');
        for (const c of m.children) if (this.st.manifest.get(repo, c) === undefined) throw new MissingReferenceError(c, 'manifest');
      }
      if (opts.writeToken !== undefined) this.st.endWrite.run({ token: opts.writeToken });
      this.st.insertBlob.run(m.digest, m.size, now);
      this.st.linkBlob.run(id, m.digest, now);
      const annotations = m.annotations === null ? null : JSON.stringify(m.annotations);
      this.st.insertManifest.run(id, m.digest, m.mediaType, m.artifactType, m.size, m.subject, annotations, m.createdAt);
      for (const b of m.blobs) this.st.insertReference.run(id, m.digest, b, 'blob');
      for (const c of m.children) this.st.insertReference.run(id, m.digest, c, 'manifest');
      if (tag !== undefined) this.st.upsertTag.run(id, tag, m.digest, now);
      this.st.markCreated.run(now, id);
      this.st.touchRepo.run(now, id);
    })();
  }

  async getManifest(repo: string, digest: string): Promise<ManifestRecord | undefined> {
    const row = this.st.manifest.get(repo, digest);
    return row && toManifest(row);
  }

  async resolveTag(repo: string, tag: string): Promise<ManifestRecord | undefined> {
    const row = this.st.tagManifest.get(repo, tag);
    return row && toManifest(row);
  }

  async deleteManifest(repo: string, digest: string, collectable?: GcRules): Promise<boolean> {
    const id = this.repoId(repo);
    if (id === undefined) return false;
    const remove = this.db.transaction(() => {
      if (collectable !== undefined) {
        const facts = toManifestFacts(this.st.manifestFacts.get({ repositoryId: id, digest }) as Record<string, unknown> | undefined);
        const verdict = manifestVerdict(facts, collectable);
        if (verdict === 'keep' || verdict === 'drop') return false;
      }
      this.st.deleteTagsOf.run(id, digest);
      const gone = this.st.deleteManifest.run(id, digest).changes > 0;
      if (!gone) return false;
      // an index's child goes only with its index (collection's verdict already kept it): rolled back
      const parent = this.st.parentOf.get({ repositoryId: id, digest });
      if (parent !== undefined) throw new StillReferencedError(digest, 'manifest', parent.digest);
      this.st.touchRepo.run(this.now(), id);
      return true;
    });
    // a collection judges and deletes as one writer: immediate, against a push in another process
    return collectable === undefined ? remove() : remove.immediate();
  }

  async deleteTag(repo: string, tag: string): Promise<boolean> {
    const id = this.repoId(repo);
    if (id === undefined) return false;
    return this.db.transaction(() => {
      const gone = this.st.deleteTag.run(id, tag).changes > 0;
      if (gone) this.st.touchRepo.run(this.now(), id);
      return gone;
    })();
  }

  async listTags(repo: string, page: Page): Promise<string[] | undefined> {
    const id = this.repoId(repo);
    if (id === undefined) return undefined;
    return this.st.tags.all(id, page.last ?? '', limitOf(page)).map((r) => r.name);
  }

  async listRepositories(page: Page, visible?: AccessFilter): Promise<string[]> {
    if (visible === undefined || visible.all) return this.st.repositories.all(page.last ?? '', limitOf(page)).map((r) => r.name);
    const query = catalogQuery(visible);
    return (this.shaped.get(query.sql).all(query.params(page.last ?? '', limitOf(page))) as { name: string }[]).map((r) => r.name);
  }

  async listReferrers(repo: string, subject: string, artifactType?: string): Promise<ManifestRecord[]> {
    const rows =
      artifactType === undefined ? this.st.referrers.all(repo, subject) : this.st.referrersOfType.all(repo, subject, artifactType);
    return rows.map(toManifest);
  }

  async repositoryExists(repo: string): Promise<boolean> {
    return this.repoId(repo) !== undefined;
  }

  async repositoryTimes(repo: string): Promise<RepositoryTimes | undefined> {
    return this.st.repoTimes.get(repo);
  }

  async queryTags(repo: string, q: TagQuery): Promise<TagPage | undefined> {
    const id = this.repoId(repo);
    if (id === undefined || this.st.hasManifests.get(id) === undefined) return undefined;
    const pattern = containsPattern(q.text);
    // One read transaction: the count and the page see the same tags.
    return this.db.transaction(() => {
      const { n } = this.shaped.get(TAGS.countTags).get({ repo: id, pattern }) as { n: number };
      if (n === 0 || q.offset >= n) return { total: n, tags: [] };
      const rows = this.shaped.get(TAGS.page(q.sort, q.order)).all({ repo: id, pattern, limit: q.limit, offset: q.offset }) as TaggedRow[];
      return { total: n, tags: rows.map(toTagged) };
    }).deferred();
  }

  async tagsOf(repo: string, digest: string): Promise<string[]> {
    return this.st.tagsOf.all(repo, digest).map((r) => r.name);
  }

  async totalSize(repo: string, digest: string): Promise<number> {
    const id = this.repoId(repo);
    if (id === undefined) return 0;
    return (this.shaped.get(TAGS.totalSize).get({ repo: id, digest }) as { size: number }).size;
  }

  async listManifests(repo: string): Promise<string[]> {
    return this.st.manifestDigests.all(repo).map((r) => r.digest);
  }

  /**
   * A session holds no data yet: its row is committed without waiting for the disk (a process
   * kill loses nothing, the WAL is in the OS cache; a power cut may forget a session started just
   * before, and the client starts again). Pushes wait for the WAL's flush (linkBlob, persistUpload).
   */
  async createUpload(session: UploadSession): Promise<void> {
    relaxed(this.db, () => this.st.insertUpload.run(session.id, session.repo, session.startedAt));
  }

  async persistUpload(id: string): Promise<void> {
    await this.durably(() => this.st.touchUpload.run(id));
  }

  async findLinkedBlob(digest: string): Promise<BlobRecord | undefined> {
    return this.st.linkedBlob.get(digest);
  }

  async getUpload(id: string): Promise<UploadSession | undefined> {
    return this.st.upload.get(id);
  }

  async deleteUpload(id: string): Promise<boolean> {
    return relaxed(this.db, () => this.st.deleteUpload.run(id).changes > 0);
  }


  async listUploads(startedBefore: number): Promise<UploadSession[]> {
    return this.st.uploadsBefore.all(startedBefore);
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    this.db.close();
    await this.wal?.close();
  }
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
  );
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    })();
  }
}

/** For a read-only connection, which cannot migrate: fail (and close) unless every migration is applied. */
function requireMigrated(db: Database.Database, file: string): void {
  const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  const rows = table === undefined ? [] : (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]);
  const applied = new Set(rows.map((r) => r.version));
  const missing = MIGRATIONS.filter((m) => !applied.has(m.version));
  if (missing.length === 0) return;
  db.close();
  throw new Error(`${file} lacks ${missing.length} of this berth's ${MIGRATIONS.length} schema migrations: start berth serve once to apply them`);
}
