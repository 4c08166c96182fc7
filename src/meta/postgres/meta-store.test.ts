/**
 * The PostgreSQL meta store: the shared MetaStore suite, the catalog for a restricted caller, and
 * two nodes (two pools, as two berth processes have) on one database writing the same things at
 * once: no unique violation or deadlock reaches a caller, and what one writes the other reads.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PG_SKIP, pgDatabase, type PgFixture } from '../../../test/helpers/pg-database.ts';
import { publicOnly, type AccessFilter } from '../../auth/visibility.ts';
import { runMetaStoreConformance } from '../conformance.ts';
import { StillReferencedError, type NewManifest } from '../store.ts';
import { PgDatabase } from './database.ts';
import { PgMetaStore } from './meta-store.ts';

const d = (c: string) => `sha256:${c.repeat(64).slice(0, 64)}`;

function manifest(digest: string, extra: Partial<NewManifest> = {}): NewManifest {
  const mediaType = 'application/vnd.oci.image.manifest.v1+json';
  return { digest, mediaType, size: 100, artifactType: null, subject: null, annotations: null, createdAt: 1, blobs: [], children: [], ...extra };
}

if (PG_SKIP === false) {
  runMetaStoreConformance('postgres', async (now) => {
    const { db, cleanup } = await pgDatabase();
    return { store: new PgMetaStore(db, { now }), cleanup };
  });
} else {
  describe('meta store conformance: postgres', { skip: PG_SKIP }, () => {});
}

describe('PgMetaStore: the catalog for a restricted caller', { skip: PG_SKIP }, () => {
  let f: PgFixture;
  let store: PgMetaStore;
  before(async () => {
    f = await pgDatabase();
    store = new PgMetaStore(f.db);
    const settings: Record<string, string | undefined> = { 'a/pub': 'public', 'a/priv': 'private', 'b/unset': undefined, 'c/pub': 'public', 'c/priv': 'private', solo: undefined };
    for (const [name, visibility] of Object.entries(settings)) {
      await store.putManifest(name, manifest(d('m')), 'latest');
      if (visibility === undefined) continue;
      await f.db.query('INSERT INTO repository_settings (name, namespace, visibility, created_at, updated_at) VALUES ($1, $2, $3, 0, 0)', [name, name.split('/')[0], visibility]);
    }
    await store.linkBlob('d/blobs-only', { digest: d('b'), size: 1 });
  });
  after(() => f.cleanup());

  const cases: [string, AccessFilter, string[]][] = [
    ['anonymous, private by default', publicOnly(false), ['a/pub', 'c/pub']],
    ['anonymous, public by default', publicOnly(true), ['a/pub', 'b/unset', 'c/pub', 'solo']],
    ['a member of c', { all: false, defaultPublic: false, namespaces: ['c'], repositories: ['a/priv'] }, ['a/priv', 'a/pub', 'c/priv', 'c/pub']],
    ['c with a token for c/pub only', { all: false, defaultPublic: false, namespaces: ['c'], repositories: [], restrict: ['c/pub'] }, ['a/pub', 'c/pub']],
    ['an administrator with a token for a/*', { all: false, defaultPublic: false, namespaces: [], repositories: [], everyNamespace: true, restrict: ['a/*'] }, ['a/priv', 'a/pub', 'c/pub']],
    ['everyone', { all: true }, ['a/priv', 'a/pub', 'b/unset', 'c/priv', 'c/pub', 'solo']],
  ];
  for (const [who, filter, expected] of cases) {
    it(`lists for ${who} what it may pull, in pages`, async () => {
      assert.deepEqual(await store.listRepositories({}, filter), expected);
      const pages: string[] = [];
      let last: string | undefined;
      for (;;) {
        const page = await store.listRepositories({ n: 2, ...(last !== undefined && { last }) }, filter);
        pages.push(...page);
        if (page.length < 2) break;
        last = page.at(-1);
      }
      assert.deepEqual(pages, expected);
    });
  }
});

describe('PgMetaStore: two nodes on one database', { skip: PG_SKIP }, () => {
  let f: PgFixture;
  let dbA: PgDatabase;
  let dbB: PgDatabase;
  let a: PgMetaStore;
  let b: PgMetaStore;
  before(async () => {
    f = await pgDatabase();
    dbA = new PgDatabase({ connectionString: f.url, maxOpen: 4 });
    dbB = new PgDatabase({ connectionString: f.url, maxOpen: 4 });
    a = new PgMetaStore(dbA);
    b = new PgMetaStore(dbB);
  });
  after(async () => {
    await dbA.close();
    await dbB.close();
    await f.cleanup();
  });

  /** Whether the search index lists exactly the repositories holding a manifest (its triggers raced nothing). */
  async function listedAgrees(): Promise<void> {
    const wrong = await f.db.rows(`SELECT i.name, i.listed FROM repository_info i JOIN repositories r ON r.name = i.name
      WHERE i.listed <> EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)`);
    assert.deepEqual(wrong, []);
  }

  it('link the same blob to the same new repository at once: one repository, one blob, one link', async () => {
    for (let round = 0; round < 10; round++) {
      const repo = `link/r${round}`;
      const blob = { digest: d(round.toString(16)), size: 7 };
      await Promise.all([0, 1, 2, 3].map((i) => (i % 2 === 0 ? a : b).linkBlob(repo, blob)));
      assert.deepEqual(await b.getRepositoryBlob(repo, blob.digest), blob);
      assert.deepEqual(await a.findLinkedBlob(blob.digest), blob);
      const [row] = await f.db.rows<{ repos: number; links: number }>(
        `SELECT (SELECT COUNT(*) FROM repositories WHERE name = $1) AS repos,
          (SELECT COUNT(*) FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id WHERE r.name = $1) AS links`,
        [repo],
      );
      assert.deepEqual(row, { repos: 1, links: 1 });
    }
  });

  it('push the same manifest and tag to the same new repository at once: one manifest, the tag on it, times set once', async () => {
    for (let round = 0; round < 10; round++) {
      const repo = `push/r${round}`;
      await a.linkBlob(repo, { digest: d('c'), size: 10 });
      const m = manifest(d('e'), { blobs: [d('c')], annotations: { round: String(round) } });
      await Promise.all([a, b, a, b].map((s) => s.putManifest(repo, m, 'latest')));
      assert.equal((await b.resolveTag(repo, 'latest'))?.digest, d('e'));
      assert.deepEqual(await a.listManifests(repo), [d('e')]);
      assert.deepEqual(await b.tagsOf(repo, d('e')), ['latest']);
      assert.equal(await a.totalSize(repo, d('e')), 110);
      const times = await b.repositoryTimes(repo);
      assert.ok(times !== undefined && times.createdAt > 0 && times.updatedAt >= times.createdAt);
    }
    await listedAgrees();
  });

  it('a tag moved on one node resolves to its new manifest on the other at once', async () => {
    await a.putManifest('move/app', manifest(d('1')), 'v');
    assert.equal((await b.resolveTag('move/app', 'v'))?.digest, d('1'));
    for (const c of ['2', '3', '4', '1']) {
      await a.putManifest('move/app', manifest(d(c)), 'v');
      assert.equal((await b.resolveTag('move/app', 'v'))?.digest, d(c));
      assert.deepEqual(await b.tagsOf('move/app', d(c)), ['v']);
    }
    assert.equal(await b.deleteTag('move/app', 'v'), true);
    assert.equal(await a.resolveTag('move/app', 'v'), undefined);
  });

  it('a manifest deleted on one node while the other pushes it with a tag: either both stay or both go, no dangling tag', async () => {
    const outcomes = new Set<string>();
    for (let round = 0; round < 20; round++) {
      const repo = `race/r${round}`;
      await a.putManifest(repo, manifest(d('1')), 'old');
      const [deleted] = await Promise.all([a.deleteManifest(repo, d('1')), b.putManifest(repo, manifest(d('1')), 'new')]);
      assert.equal(deleted, true);
      const kept = await b.getManifest(repo, d('1'));
      const tags = await a.tagsOf(repo, d('1'));
      // Serialised either way: delete then push leaves the manifest tagged 'new'; push then delete leaves nothing.
      if (kept === undefined) assert.deepEqual(tags, []);
      else assert.deepEqual(tags, ['new']);
      outcomes.add(kept === undefined ? 'gone' : 'kept');
      assert.equal(await a.resolveTag(repo, 'old'), undefined);
    }
    const dangling = await f.db.rows(`SELECT t.name FROM tags t
      WHERE NOT EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = t.repository_id AND m.digest = t.manifest_digest)`);
    assert.deepEqual(dangling, []);
    await listedAgrees();
    assert.ok(outcomes.size > 0);
  });

  it('an index pushed on one node while the other deletes its child: the index stays, the child goes only if first', async () => {
    for (let round = 0; round < 10; round++) {
      const repo = `index/r${round}`;
      await a.putManifest(repo, manifest(d('1')), 'child');
      const index = manifest(d('9'), { mediaType: 'application/vnd.oci.image.index.v1+json', children: [d('1')] });
      const [deleted] = await Promise.allSettled([a.deleteManifest(repo, d('1')), b.putManifest(repo, index, 'latest')]);
      assert.equal((await a.resolveTag(repo, 'latest'))?.digest, d('9'));
      const child = await b.getManifest(repo, d('1'));
      if (deleted.status === 'fulfilled') assert.ok(deleted.value && child === undefined, `round ${round}: deleted before the index came`);
      else assert.ok(deleted.reason instanceof StillReferencedError && child !== undefined, `round ${round}: ${String(deleted.reason)}`);
    }
    await listedAgrees();
  });

  it('a tag deleted on one node while the other moves it: no deadlock, the tag ends on the new manifest or gone', async () => {
    for (let round = 0; round < 20; round++) {
      const repo = `tagrace/r${round}`;
      await a.putManifest(repo, manifest(d('1')), 'v');
      await Promise.all([a.deleteTag(repo, 'v'), b.putManifest(repo, manifest(d('2')), 'v'), b.deleteManifest(repo, d('1'))]);
      const resolved = await a.resolveTag(repo, 'v');
      assert.ok(resolved === undefined || resolved.digest === d('2'));
    }
    await listedAgrees();
  });
});
