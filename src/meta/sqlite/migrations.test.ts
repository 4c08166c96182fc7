/**
 * Migrations on a database an older berth wrote: each later migration runs once on opening, and
 * backfills what the new code reads from what the old one recorded.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.ts';
import { SqliteMetaStore } from './sqlite-store.ts';
import { SqliteSearchIndex } from './search-index.ts';
import { SqliteStorageUsage } from './storage-usage.ts';
import { assertCountedAfterMigration, LINKS_BEFORE_COUNTERS } from '../storage-usage-conformance.ts';
import { SEE_EVERYTHING } from '../../search/model.ts';

const d = (c: string) => `sha256:${c.repeat(64).slice(0, 64)}`;

/** A database at `version`, as a berth of that schema left it. */
function databaseAt(file: string, version: number): Database.Database {
  const db = new Database(file);
  db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
  for (const m of MIGRATIONS.filter((x) => x.version <= version)) {
    db.exec(m.sql);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, 1);
  }
  return db;
}

describe('sqlite migrations', () => {
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-migrations-'));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('9, repository times: created is the first manifest still held, not the first blob; a repository without one is created by its next push', async () => {
    const file = path.join(dir, 'v8.db');
    const old = databaseAt(file, 8);
    // What berth up to migration 8 wrote: the repository row at the first blob (created_at), each
    // push moving updated_at; manifests and tags with their push times.
    const repo = (id: number, name: string, created: number, updated: number) =>
      old.prepare('INSERT INTO repositories (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)').run(id, name, created, updated);
    const blob = (digest: string) => old.prepare('INSERT INTO blobs (digest, size, created_at) VALUES (?, 1, 100) ON CONFLICT DO NOTHING').run(digest);
    const manifest = (id: number, digest: string, at: number, tag?: string) => {
      blob(digest);
      old.prepare("INSERT INTO manifests (repository_id, digest, media_type, size, created_at) VALUES (?, ?, 'application/vnd.oci.image.manifest.v1+json', 1, ?)").run(id, digest, at);
      if (tag !== undefined) old.prepare('INSERT INTO tags (repository_id, name, manifest_digest, updated_at) VALUES (?, ?, ?, ?)').run(id, tag, digest, at);
    };
    repo(1, 'alice/app', 100, 3000);
    manifest(1, d('1'), 1000, 'v1');
    manifest(1, d('2'), 3000, 'v2');
    repo(2, 'bob/blobs-only', 500, 500);
    blob(d('b'));
    old.prepare('INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES (2, ?, 500)').run(d('b'));
    old.close();

    const store = new SqliteMetaStore(file, { now: () => 9000 });
    try {
      assert.deepEqual(await store.repositoryTimes('alice/app'), { createdAt: 1000, updatedAt: 3000 });
      assert.equal(await store.repositoryTimes('bob/blobs-only'), undefined);
      await store.putManifest('bob/blobs-only', {
        digest: d('3'),
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        size: 1,
        artifactType: null,
        subject: null,
        annotations: null,
        createdAt: 9000,
        blobs: [d('b')],
        children: [],
      }, 'v1');
      assert.deepEqual(await store.repositoryTimes('bob/blobs-only'), { createdAt: 9000, updatedAt: 9000 }, 'created by its first manifest, not its blob at 500');
      const index = new SqliteSearchIndex(store.database);
      const found = await index.search({ text: '', access: SEE_EVERYTHING, sort: 'updated', offset: 0, limit: 10 });
      assert.deepEqual(found.hits.map((h) => [h.name, h.updatedAt]), [['bob/blobs-only', 9000], ['alice/app', 3000]], 'search says the same');
      const versions = store.database.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[];
      assert.deepEqual(versions.map((v) => v.version), MIGRATIONS.map((m) => m.version));
    } finally {
      await store.close();
    }
  });

  it('15, namespace usage counters: the links already there are counted as the SUM over them counts them, and counted on from there', async () => {
    const file = path.join(dir, 'v14.db');
    const old = databaseAt(file, 14);
    const { repositories, links } = LINKS_BEFORE_COUNTERS;
    for (const [id, name] of repositories) old.prepare('INSERT INTO repositories (id, name, created_at, updated_at) VALUES (?, ?, 1, 1)').run(id, name);
    for (const [id, digest, size] of links) {
      old.prepare('INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, 1) ON CONFLICT DO NOTHING').run(digest, size);
      old.prepare('INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES (?, ?, 1)').run(id, digest);
    }
    old.close();

    const store = new SqliteMetaStore(file);
    try {
      await assertCountedAfterMigration(new SqliteStorageUsage(store.database), store);
    } finally {
      await store.close();
    }
  });
});
