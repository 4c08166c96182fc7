import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runStorageUsageConformance } from '../storage-usage-conformance.ts';
import { openSqliteBackend } from './backend.ts';

runStorageUsageConformance('sqlite', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-usage-'));
  const { meta, usage } = openSqliteBackend({ path: path.join(dir, 'meta.db') });
  return { meta, usage, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
});
