/**
 * The SQLite backend as a whole: its stores share one database, and a read-only one (berth events
 * beside a serving berth) sees what the writer committed, creates nothing and refuses a database
 * that lacks migrations. Each store's behaviour is its own conformance suite's.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { event } from '../../events/test-support.ts';
import { openSqliteBackend } from './backend.ts';

const digest = `sha256:${'a'.repeat(64)}`;

describe('sqlite backend', () => {
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-backend-'));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('builds every store on one database, which a read-only backend reads beside the writer', async () => {
    const file = path.join(dir, 'shared.db');
    const backend = openSqliteBackend({ path: file, now: () => 5_000 });
    try {
      await backend.accounts.claimRepository('team/app', 'team', 'public');
      await backend.meta.linkBlob('team/app', { digest, size: 7 });
      await backend.events.enqueue([{ endpoint: 'hook', event: event(1) }]);
      assert.deepEqual((await backend.usage.usage()).total, { bytes: 7, blobs: 1 }, 'usage reads what meta wrote');
      assert.equal((await backend.events.list())[0]?.createdAt, 5_000, 'the clock reaches the queue');

      const reader = openSqliteBackend({ path: file, readOnly: true });
      try {
        assert.equal((await reader.events.list()).length, 1);
        assert.deepEqual(await reader.meta.getBlob(digest), { digest, size: 7 });
        assert.equal((await reader.accounts.getRepository('team/app'))?.visibility, 'public');
        await assert.rejects(reader.events.enqueue([{ endpoint: 'hook', event: event(2) }]), /readonly/i);
      } finally {
        await reader.close();
      }
    } finally {
      await backend.close();
    }
  });

  it('read-only: creates no file, and refuses a database that lacks migrations', async () => {
    const missing = path.join(dir, 'none', 'berth.db');
    assert.throws(() => openSqliteBackend({ path: missing, readOnly: true }));
    await assert.rejects(fs.stat(path.dirname(missing)), { code: 'ENOENT' });

    const old = path.join(dir, 'old.db');
    new Database(old).close();
    assert.throws(() => openSqliteBackend({ path: old, readOnly: true }), /lacks \d+ of this berth's \d+ schema migrations: start berth serve once/);
    const migrated = openSqliteBackend({ path: old });
    await migrated.close();
    await openSqliteBackend({ path: old, readOnly: true }).close();
  });
});
