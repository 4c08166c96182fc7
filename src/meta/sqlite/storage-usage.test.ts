import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runStorageUsageConformance } from '../storage-usage-conformance.ts';
import { SqliteGcStore } from './gc-store.ts';
import { SqliteMetaStore } from './sqlite-store.ts';
import { SqliteStorageUsage } from './storage-usage.ts';

runStorageUsageConformance('sqlite', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-usage-'));
  const meta = new SqliteMetaStore(path.join(dir, 'meta.db'));
  const db = meta.database;
  const dropRepository = async (name: string) => void db.prepare('DELETE FROM repositories WHERE name = ?').run(name);
  const moveLinks = async (from: string, to: string) =>
    void db
      .prepare('UPDATE repository_blobs SET repository_id = (SELECT id FROM repositories WHERE name = ?), created_at = created_at + 1 WHERE repository_id = (SELECT id FROM repositories WHERE name = ?)')
      .run(to, from);
  const cleanup = () => fs.rm(dir, { recursive: true, force: true });
  return { meta, usage: new SqliteStorageUsage(db), gc: new SqliteGcStore(db), dropRepository, moveLinks, cleanup };
});
