/**
 * The table phase of `berth migrate`: a SQLite backend filled through its own stores, copied into
 * a migrated PostgreSQL database; every copied table compared row by row (0/1 flags as booleans),
 * the search answers compared, then a second run writing nothing, a catch-up run after the
 * source changed, and the identity sequences past the ids copied.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { PG_SKIP, pgDatabase, type PgFixture } from '../../test/helpers/pg-database.ts';
import { publicOnly, SEE_EVERYTHING } from '../auth/visibility.ts';
import { event } from '../events/test-events.ts';
import type { SearchQuery } from '../search/model.ts';
import type { Backend } from '../meta/backend.ts';
import { postgresBackend, type PgBackend } from '../meta/postgres/backend.ts';
import { PgDatabase } from '../meta/postgres/database.ts';
import { openSqliteBackend } from '../meta/sqlite/backend.ts';
import { silentProgress } from './progress.ts';
import { SourceSnapshot, quote } from './source.ts';
import { COPIED_TABLES, copyTables, notCopied } from './tables.ts';

const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;

async function push(meta: Backend['meta'], repo: string, n: number, tag: string): Promise<void> {
  await meta.linkBlob(repo, { digest: digest(n + 1000), size: 100 + n });
  await meta.linkBlob(repo, { digest: digest(n), size: 50 });
  await meta.putManifest(
    repo,
    { digest: digest(n), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 50, artifactType: null, subject: null, annotations: { n: String(n) }, createdAt: 1_700_000_000_000 + n, blobs: [digest(n + 1000)], children: [] },
    tag,
  );
}

async function fill(source: Backend): Promise<void> {
  await push(source.meta, 'alice/app', 1, 'v1');
  await push(source.meta, 'alice/app', 2, 'v2');
  await push(source.meta, 'library/base', 3, 'latest');
  await push(source.meta, 'acme/tool', 4, 'stable');
  await source.accounts.createUser({ name: 'alice', passwordHash: 'hash-a', admin: true });
  await source.accounts.createUser({ name: 'bob', passwordHash: null, admin: false });
  await source.accounts.createOrg('acme', 'alice');
  await source.accounts.setOrgMember('acme', 'bob', false);
  await source.accounts.createTeam('acme', 'devs');
  await source.accounts.addTeamMember('acme', 'devs', 'bob');
  await source.accounts.setTeamPermission('acme', 'devs', 'acme/tool', 'write');
  await source.accounts.setVisibility('acme/tool', 'acme', 'private');
  await source.accounts.setVisibility('alice/app', 'alice', 'public');
  await source.accounts.createToken({ id: 'tok1', user: 'alice', kind: 'pat', name: 'ci', secretHash: 'secret-hash-1', scopes: ['repository:alice/app:pull'], expiresAt: null });
  await source.search.describe('alice/app', { description: 'the app of alice', fullDescription: '# App\nlong text' });
  await source.search.star('alice/app', 'bob', true);
  await source.search.star('library/base', 'alice', true);
  await source.search.addPulls(new Map([['alice/app', 7], ['library/base', 42]]));
  await source.usage.recordSample({ at: 1_700_000_000_000, total: 500, namespaces: { alice: 300, acme: 200 } });
  await source.events.enqueue([{ endpoint: 'hook', event: event(1) }, { endpoint: 'hook', event: event(2) }]);
  // administrators' edits: a quota and an immutable rule
  await source.settings?.put('quota/acme', 1_000_000, 'alice');
  await source.settings?.put('immutable/acme/*', { tags: ['v*'] }, 'alice');
}

type Rows = Record<string, unknown>[];

function sqliteRows(file: string, table: string): Rows {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(`SELECT * FROM ${quote(table)}`).all() as Rows;
  } finally {
    db.close();
  }
}

/** Rows as comparable strings, booleans as 0/1 and without PostgreSQL's generated search column. */
function canonical(rows: Rows): string[] {
  return rows
    .map((row) => {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(row).sort()) {
        if (key === 'search') continue;
        const v = row[key];
        out[key] = typeof v === 'boolean' ? Number(v) : Buffer.isBuffer(v) ? v.toString('hex') : v;
      }
      return JSON.stringify(out);
    })
    .sort();
}

async function assertSame(file: string, db: PgBackend['database'], tables: readonly string[]): Promise<void> {
  for (const table of tables) {
    const expected = canonical(sqliteRows(file, table));
    const actual = canonical(await db.rows(`SELECT * FROM ${quote(table)}`));
    if (table === 'event_deliveries') {
      // the single node's leases are dropped from pending deliveries
      assert.equal(actual.length, expected.length, table);
      continue;
    }
    assert.deepEqual(actual, expected, table);
  }
}

async function copy(file: string, target: PgBackend) {
  const snapshot = SourceSnapshot.open(file);
  try {
    return await copyTables(target.database, { source: snapshot, progress: silentProgress });
  } finally {
    snapshot.close();
  }
}

describe('copyTables', { skip: PG_SKIP }, () => {
  let dir: string;
  let file: string;
  let source: Backend;
  let fixture: PgFixture;
  let target: PgBackend;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-migrate-tables-'));
    file = path.join(dir, 'meta.db');
    source = openSqliteBackend({ path: file });
    await fill(source);
    fixture = await pgDatabase();
    target = await postgresBackend(fixture.db);
  });
  after(async () => {
    await source.close();
    await fixture.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('knows every table of the SQLite schema: copied or deliberately left', () => {
    const snapshot = SourceSnapshot.open(file);
    try {
      for (const t of snapshot.tables()) assert.ok(COPIED_TABLES.includes(t) || notCopied(t), `table ${t} is neither copied nor left`);
    } finally {
      snapshot.close();
    }
  });

  it('copies every row, flags as booleans, and the search answers stay the same', async () => {
    const reports = await copy(file, target);
    assert.deepEqual(Object.keys(reports), COPIED_TABLES);
    assert.equal(reports['manifests']?.rows, 4);
    assert.equal(reports['manifests']?.written, 4);
    await assertSame(file, target.database, COPIED_TABLES);
    await assertSame(file, target.database, ['usage_links', 'usage_namespaces']); // counted by the target's triggers
    const admin = await target.database.one<{ admin: boolean }>("SELECT admin FROM users WHERE name = 'alice'");
    assert.equal(admin?.admin, true);
    for (const name of ['alice/app', 'library/base', 'acme/tool']) {
      assert.deepEqual(await target.search.details(name, 'alice'), await source.search.details(name, 'alice'), name);
    }
    for (const query of [
      { text: 'app', access: SEE_EVERYTHING, sort: 'relevance', offset: 0, limit: 10 },
      { text: '', access: publicOnly(false), sort: 'stars', offset: 0, limit: 10 },
      { text: '', access: SEE_EVERYTHING, sort: 'pulls', offset: 0, limit: 10 },
    ] satisfies SearchQuery[]) {
      assert.deepEqual(await target.search.search(query), await source.search.search(query), JSON.stringify(query));
    }
  });

  it('writes nothing on a second run', async () => {
    const reports = await copy(file, target);
    for (const [table, r] of Object.entries(reports)) assert.deepEqual([r.written, r.deleted], [0, 0], table);
  });

  it('catches up on what the source changed since, and numbers new rows past the ids copied', async () => {
    await push(source.meta, 'alice/app', 5, 'v1');
    await push(source.meta, 'carol/new', 6, 'x');
    await source.search.addPulls(new Map([['alice/app', 1]]));
    await source.accounts.touchToken('tok1', 1_800_000_000_000);
    await source.meta.deleteTag('alice/app', 'v2');
    await source.meta.deleteManifest('acme/tool', digest(4));
    await source.accounts.removeTeamMember('acme', 'devs', 'bob');
    const reports = await copy(file, target);
    assert.equal(reports['manifests']?.written, 2);
    assert.equal(reports['tags']?.written, 2);
    // v1 moved, v2 deleted, acme/tool's manifest deleted with its tag: the source stamped each; the
    // target's triggers stamped them with the copy's time, then the source's times came back
    assert.equal(reports['manifest_untagged']?.written, 3);
    assert.deepEqual([reports['tags']?.deleted, reports['manifests']?.deleted, reports['team_members']?.deleted], [2, 1, 1]);
    await assertSame(file, target.database, COPIED_TABLES);
    await assertSame(file, target.database, ['usage_links', 'usage_namespaces']);
    await target.meta.linkBlob('dave/fresh', { digest: digest(9), size: 1 });
    const ids = await target.database.rows<{ name: string; id: number }>('SELECT name, id FROM repositories ORDER BY id');
    assert.equal(ids.at(-1)?.name, 'dave/fresh');
    assert.ok(ids.length === new Set(ids.map((r) => r.id)).size);
  });

  it('two runs at once on two pools both finish, one after the other, leaving the target equal to the source', async () => {
    await push(source.meta, 'erin/two', 7, 'a');
    const other = new PgDatabase({ connectionString: fixture.url, maxOpen: 2 });
    try {
      const [a, b] = await Promise.all([copy(file, target), copy(file, await postgresBackend(other))]);
      assert.equal((a['manifests']?.written ?? 0) + (b['manifests']?.written ?? 0), 1);
      await assertSame(file, target.database, COPIED_TABLES);
    } finally {
      await other.close();
    }
  });
});
