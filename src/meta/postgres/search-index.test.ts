/**
 * The PostgreSQL search index: the shared SearchIndex suite; the tokenizer against SQLite FTS5's
 * own for every code point; the same repositories, stars, pulls and queries (hostile ones too) on
 * SQLite and PostgreSQL answering the same; and two nodes (two pools) on one database: a push is
 * found through the other at once, stars from both count right, and the triggers hold when a first
 * push meets a visibility claim, or a push meets the deletion of the last manifest, in flight.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { PG_SKIP, pgDatabase, type PgFixture } from '../../../test/helpers/pg-database.ts';
import { runSearchIndexConformance } from '../../search/conformance.ts';
import { SEE_EVERYTHING, namespaceOf, type AccessFilter, type SearchIndex, type SearchQuery } from '../../search/model.ts';
import { openSqliteBackend } from '../sqlite/backend.ts';
import type { Backend } from '../backend.ts';
import type { MetaStore, NewManifest } from '../store.ts';
import type { AccountStore } from '../../auth/store.ts';
import { PgAccountStore } from './account-store.ts';
import { PgDatabase } from './database.ts';
import { PgMetaStore } from './meta-store.ts';
import { PgSearchIndex } from './search-index.ts';
import { fts5Tokens, fts5TsvectorSql } from './schema/unicode61.ts';

let counter = 0;
function manifest(): NewManifest {
  const digest = `sha256:${(++counter).toString(16).padStart(64, '0')}`;
  return { digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 10, artifactType: null, subject: null, annotations: null, createdAt: 1, blobs: [], children: [] };
}

if (PG_SKIP === false) {
  runSearchIndexConformance('postgres', async (now) => {
    const { db, cleanup } = await pgDatabase();
    const accounts = await PgAccountStore.open(db);
    return {
      meta: new PgMetaStore(db, { now }),
      accounts,
      index: new PgSearchIndex(db),
      cleanup: async () => {
        accounts.close();
        await cleanup();
      },
    };
  });
} else {
  describe('search index conformance: postgres', { skip: PG_SKIP }, () => {});
}

const LAST = 0x10ffff;
/**
 * Every code point of the first two planes (where nearly every assigned character is), and every
 * 61st of the rest (unassigned in Unicode 6.1 but for private use and tags: token characters).
 */
const CODE_POINTS: number[] = [];
for (let c = 1; c <= LAST; c += c < 0x20000 ? 1 : 61) if (c < 0xd800 || c > 0xdfff) CODE_POINTS.push(c);

describe('PgSearchIndex: tokens as SQLite FTS5 makes them', { skip: PG_SKIP }, () => {
  let f: PgFixture;
  /** FTS5's tokens of 'a' + c + 'b', for each code point c in [first, last]. */
  let fts5: (first: number, last: number) => Map<number, string>;
  let sqlite: Database.Database;
  before(async () => {
    f = await pgDatabase();
    sqlite = new Database(':memory:');
    sqlite.exec("CREATE VIRTUAL TABLE t USING fts5(x); CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')");
    const insert = sqlite.prepare('INSERT INTO t (rowid, x) VALUES (?, ?)');
    sqlite.transaction(() => {
      for (const c of CODE_POINTS) insert.run(c, `a${String.fromCodePoint(c)}b`);
    })();
    const terms = sqlite.prepare<[number, number], { doc: number; term: string }>('SELECT doc, term FROM v WHERE doc BETWEEN ? AND ? ORDER BY doc, offset');
    fts5 = (first, last) => {
      const out = new Map<number, string[]>();
      for (const r of terms.iterate(first, last)) out.set(r.doc, [...(out.get(r.doc) ?? []), r.term]);
      return new Map([...out].map(([c, t]) => [c, [...t].sort().join(' ')]));
    };
  });
  after(async () => {
    sqlite.close();
    await f.cleanup();
  });

  it('fts5Tokens (the query side) splits and folds every code point as FTS5 does', () => {
    const expected = fts5(1, LAST);
    const wrong: string[] = [];
    for (const c of CODE_POINTS) {
      const ours = fts5Tokens(`a${String.fromCodePoint(c)}b`).sort().join(' ');
      if (ours !== expected.get(c)) wrong.push(`U+${c.toString(16)}: ${ours} (FTS5: ${expected.get(c)})`);
    }
    assert.deepEqual(wrong.slice(0, 10), []);
  });

  it('the tsvector (the document side) holds what FTS5 indexes, for every code point', async () => {
    const expected = fts5(1, LAST);
    const rows = await f.db.rows<{ c: number; tokens: string }>(
      `SELECT c, array_to_string(tsvector_to_array(${fts5TsvectorSql("'a' || chr(c) || 'b'")}), ' ') AS tokens FROM unnest($1::int[]) AS c`,
      [CODE_POINTS],
    );
    assert.equal(rows.length, CODE_POINTS.length);
    const wrong = rows.filter((r) => r.tokens !== expected.get(r.c)).map((r) => `U+${r.c.toString(16)}: ${r.tokens} (FTS5: ${expected.get(r.c)})`);
    assert.deepEqual(wrong.slice(0, 10), []);
  });
});

/** Repositories with descriptions in several scripts, cases, accents and punctuation. */
const CORPUS: Record<string, string> = {
  'library/nginx': 'Official build of Nginx.',
  nginx: '',
  'alice/nginx-proxy': 'Reverse proxy — NGINX + Let’s Encrypt',
  'bob/café': 'x',
  'bob/cafe-api': 'Café au lait: l’API française, déjà prête',
  'carol/web': 'a web server in front of nginx; «vite» et Ærø',
  'dave/straße': 'Straße STRASSE Ǆungla İstanbul',
  'erin/tools': '東京 ツール 🐳 docker 🦀rust',
  'erin/redis': 'redis-cli v7.2.4 with TLS_1.3 (x86_64)',
  'frank/app': "quote ' backslash \\ colon: star* bang! pipe| amp& paren(",
  'grace/ml': 'ΑΒΓ Ελληνικά и русский ТЕКСТ',
  'henry/nums': '123 4.5e6 0x1F ½ ² ⅷ',
};

const QUERIES = [
  '', 'nginx', 'NGINX', 'ngi', 'nginx proxy', 'proxy nginx', 'library/nginx', 'library', 'cafe', 'café', 'CAFÉ', 'Cafe\u0301', 'francaise',
  'deja', 'lets', 'let', 's', 'strasse', 'straße', 'dz', 'ǆ', 'istanbul', 'i̇stanbul', '東京', '東', 'ツ', '🐳', 'rust', '🦀', 'docker',
  'redis 7', 'v7', 'tls_1', '1 3', 'x86', '64', 'ελληνικα', 'ΕΛΛΗΝΙΚΆ', 'русский', 'текст', '½', '2', 'vite', 'aero', 'ærø',
  "a:* | !b & (", "'", "''", '\\', "\\'", '!', '&', '|', '(', ')', ':*', 'a:*', "quote'", "o'reilly", 'star*', 'a\0b', '\0', 'nginx\0',
  '\u19b0', 'nginx \u19b0', 'ngi\u19b0nx', 'a'.repeat(300), 'x '.repeat(40), '<->', 'a <-> b', 'a:A', "'a':*", '$1', '@text', '-- ; DROP TABLE repository_info',
];

describe('PgSearchIndex answers as SqliteSearchIndex does', { skip: PG_SKIP }, () => {
  let f: PgFixture;
  let sqlite: Backend;
  let both: { meta: MetaStore; accounts: AccountStore; index: SearchIndex }[];
  let close = async (): Promise<void> => undefined;
  before(async () => {
    f = await pgDatabase();
    const now = () => 1_000;
    sqlite = openSqliteBackend({ path: ':memory:', now });
    const accounts = await PgAccountStore.open(f.db);
    both = [
      { meta: sqlite.meta, accounts: sqlite.accounts, index: sqlite.search },
      { meta: new PgMetaStore(f.db, { now }), accounts, index: new PgSearchIndex(f.db) },
    ];
    let n = 0;
    for (const [name, description] of Object.entries(CORPUS)) {
      n++;
      const m = manifest();
      for (const s of both) {
        await s.accounts.claimRepository(name, namespaceOf(name), n % 3 === 0 ? 'private' : 'public');
        await s.meta.putManifest(name, m, 'latest');
        await s.index.describe(name, { description });
        for (let u = 0; u < n % 4; u++) await s.index.star(name, `user${u}`, true);
        await s.index.addPulls(new Map([[name, (n * 7) % 5]]));
      }
    }
    close = async () => {
      accounts.close();
      await sqlite.close();
    };
  });
  after(async () => {
    await close();
    await f.cleanup();
  });

  const filters: [string, AccessFilter][] = [
    ['everyone', SEE_EVERYTHING],
    ['anonymous', { all: false, defaultPublic: false, namespaces: [], repositories: [] }],
    ['bob', { all: false, defaultPublic: false, namespaces: ['bob'], repositories: ['erin/redis'] }],
  ];
  for (const [who, access] of filters) {
    it(`the same hits, order and totals for ${who}, whatever the text`, async () => {
      for (const text of QUERIES) {
        for (const sort of ['relevance', 'stars', 'pulls', 'updated'] as const) {
          const q: SearchQuery = { text, access, sort, offset: 0, limit: 50 };
          const [expected, actual] = await Promise.all(both.map((s) => s.index.search(q)));
          assert.deepEqual(actual, expected, `${JSON.stringify(text)} by ${sort}`);
        }
        const paged: SearchQuery = { text, access, sort: 'relevance', offset: 1, limit: 2, namespace: 'bob', minStars: 1 };
        const [expected, actual] = await Promise.all(both.map((s) => s.index.search(paged)));
        assert.deepEqual(actual, expected, `${JSON.stringify(text)}, a page of bob's`);
      }
    });
  }

  it('finds words in any script, case or accent as SQLite does (spot checks of the above)', async () => {
    const pgIndex = both[1]?.index;
    assert.ok(pgIndex);
    const names = async (text: string) => (await pgIndex.search({ text, access: SEE_EVERYTHING, sort: 'relevance', offset: 0, limit: 50 })).hits.map((h) => h.name);
    assert.deepEqual(await names('CAFÉ'), ['bob/café', 'bob/cafe-api']);
    assert.deepEqual(await names('francaise'), ['bob/cafe-api']);
    assert.deepEqual(await names('東京'), ['erin/tools']);
    assert.deepEqual(await names('rust'), [], 'FTS5 counts 🦀 (newer than Unicode 6.1) as a letter: one token, 🦀rust');
    assert.deepEqual(await names('a:* | !b & ('), await names('a b'), 'operators are separators: the words a and b');
    const everything = await pgIndex.search({ text: '', access: SEE_EVERYTHING, sort: 'relevance', offset: 0, limit: 50 });
    assert.equal((await pgIndex.search({ text: "'", access: SEE_EVERYTHING, sort: 'relevance', offset: 0, limit: 50 })).total, everything.total, 'no words: everything');
  });
});

describe('PgSearchIndex: two nodes on one database', { skip: PG_SKIP }, () => {
  let f: PgFixture;
  let other: PgDatabase;
  let nodes: { db: PgDatabase; meta: PgMetaStore; index: PgSearchIndex }[];
  before(async () => {
    f = await pgDatabase();
    other = new PgDatabase({ connectionString: f.url, maxOpen: 4 });
    nodes = [f.db, other].map((db) => ({ db, meta: new PgMetaStore(db), index: new PgSearchIndex(db) }));
  });
  after(async () => {
    await other.close();
    await f.cleanup();
  });
  const node = (n: number) => nodes[n % 2] as (typeof nodes)[number];
  const names = async (n: number, text: string, access: AccessFilter = SEE_EVERYTHING) =>
    (await node(n).index.search({ text, access, sort: 'relevance', offset: 0, limit: 50 })).hits.map((h) => h.name);

  /** Resolves once a session of the database waits for a lock (pending shows it did not have to). */
  const blocked = async (pending: Promise<unknown>): Promise<void> => {
    let done = false;
    void pending.then(() => (done = true), () => (done = true));
    const waiting = "SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'";
    while (!done && ((await f.db.one<{ n: number }>(waiting))?.n ?? 0) === 0) await new Promise((r) => setTimeout(r, 5));
  };
  /** A transaction left open on a node, as another node's push or claim in flight. */
  const open = async (db: PgDatabase): Promise<pg.PoolClient> => {
    const client = await db.pool.connect();
    await client.query('BEGIN');
    return client;
  };
  const pushSql = async (client: pg.PoolClient, repo: string, digest: string) => {
    const r = await client.query<{ id: number }>(
      'INSERT INTO repositories (name, created_at, updated_at) VALUES ($1, 1, 1) ON CONFLICT (name) DO UPDATE SET updated_at = 1 RETURNING id',
      [repo],
    );
    await client.query('INSERT INTO blobs (digest, size, created_at) VALUES ($1, 10, 1) ON CONFLICT DO NOTHING', [digest]);
    await client.query("INSERT INTO manifests (repository_id, digest, media_type, size, created_at) VALUES ($1, $2, 'application/vnd.oci.image.manifest.v1+json', 10, 1)", [
      r.rows[0]?.id,
      digest,
    ]);
  };
  const info = (repo: string) => f.db.one<{ listed: boolean; visibility: string | null }>('SELECT listed, visibility FROM repository_info WHERE name = $1', [repo]);
  const ANONYMOUS: AccessFilter = { all: false, defaultPublic: true, namespaces: [], repositories: [] };

  it('finds a push, a description and a delete made through the other node at once', async () => {
    const m = manifest();
    await node(0).meta.putManifest('shared/pushed', m, 'latest');
    assert.deepEqual(await names(1, 'pushed'), ['shared/pushed']);
    assert.equal(await node(1).index.describe('shared/pushed', { description: 'made on node zero' }), true);
    assert.deepEqual(await names(0, 'zero'), ['shared/pushed']);
    await node(1).meta.deleteManifest('shared/pushed', m.digest);
    assert.deepEqual(await names(0, 'pushed'), []);
  });

  it('counts stars and pulls from both nodes at once, each user once, without deadlocks', async () => {
    await node(0).meta.putManifest('shared/starred', manifest(), 'latest');
    await node(0).meta.putManifest('shared/pulled', manifest(), 'latest');
    const users = Array.from({ length: 24 }, (_, u) => `user${u}`);
    // every user stars from both nodes at once: 24 stars
    await Promise.all(users.flatMap((u, n) => [node(n).index.star('shared/starred', u, true), node(n + 1).index.star('shared/starred', u, true)]));
    assert.equal((await node(1).index.details('shared/starred'))?.starCount, 24);
    const counts = await Promise.all(users.slice(0, 10).map((u, n) => node(n).index.star('shared/starred', u, false)));
    assert.deepEqual([...counts].sort((a, b) => (b ?? 0) - (a ?? 0)), [23, 22, 21, 20, 19, 18, 17, 16, 15, 14], 'each unstar sees the one before');
    assert.equal((await node(0).index.details('shared/starred'))?.starCount, 14);
    assert.equal((await node(0).index.starredBy('user23')).length, 1);
    // pull counts flushed by both nodes at once, in opposite orders
    const flushes = Array.from({ length: 20 }, (_, n) =>
      node(n).index.addPulls(new Map(n % 2 === 0 ? [['shared/starred', 1], ['shared/pulled', 2]] : [['shared/pulled', 2], ['shared/starred', 1]])),
    );
    await Promise.all(flushes);
    assert.equal((await node(1).index.details('shared/pulled'))?.pullCount, 40);
    assert.equal((await node(1).index.details('shared/starred'))?.pullCount, 20);
  });

  it('keeps the visibility a node claims while another pushes the same new repository', async () => {
    // the claim first, uncommitted; the push through the other node waits for it
    const claim = await open(f.db);
    await claim.query("INSERT INTO repository_settings (name, namespace, visibility, created_at, updated_at) VALUES ('race/claimed', 'race', 'private', 1, 1)");
    const push = node(1).meta.putManifest('race/claimed', manifest(), 'latest');
    await blocked(push);
    await claim.query('COMMIT');
    claim.release();
    await push;
    assert.deepEqual(await info('race/claimed'), { listed: true, visibility: 'private' });
    assert.deepEqual(await names(0, 'claimed', ANONYMOUS), []);
    // the push first, uncommitted; the claim through the other node waits for it
    const pushing = await open(other);
    await pushSql(pushing, 'race/pushed', manifest().digest);
    const claimed = f.db.query("INSERT INTO repository_settings (name, namespace, visibility, created_at, updated_at) VALUES ('race/pushed', 'race', 'private', 1, 1)");
    await blocked(claimed);
    await pushing.query('COMMIT');
    pushing.release();
    await claimed;
    assert.deepEqual(await info('race/pushed'), { listed: true, visibility: 'private' });
    assert.deepEqual(await names(1, 'pushed', ANONYMOUS), []);
  });

  it('keeps a repository listed when its last manifest goes while another node pushes a new one', async () => {
    const first = manifest();
    await node(0).meta.putManifest('race/relisted', first, 'latest');
    const pushing = await open(other);
    await pushSql(pushing, 'race/relisted', manifest().digest);
    const deleted = f.db.query('DELETE FROM manifests WHERE digest = $1', [first.digest]);
    await blocked(deleted);
    await pushing.query('COMMIT');
    pushing.release();
    await deleted;
    assert.deepEqual(await info('race/relisted'), { listed: true, visibility: null });
    assert.deepEqual(await names(0, 'relisted'), ['race/relisted']);
  });
});
