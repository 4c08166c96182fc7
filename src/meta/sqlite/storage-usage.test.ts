import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runStorageUsageConformance } from '../storage-usage-conformance.ts';
import { SqliteMetaStore } from './sqlite-store.ts';
import { SqliteStorageUsage } from './storage-usage.ts';

runStorageUsageConformance('sqlite', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-usage-'));
  const meta = new SqliteMetaStore(path.join(dir, 'meta.db'));
  return { meta, usage: new SqliteStorageUsage(meta.database), cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
});
