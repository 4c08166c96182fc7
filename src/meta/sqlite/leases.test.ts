import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runJobLeasesConformance } from '../leases-conformance.ts';
import { SqliteJobLeases } from './leases.ts';
import { SqliteMetaStore } from './sqlite-store.ts';

runJobLeasesConformance('sqlite', async (now) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-leases-'));
  const meta = new SqliteMetaStore(path.join(dir, 'meta.db'));
  return {
    leases: new SqliteJobLeases(meta.database, now),
    cleanup: async () => {
      await meta.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
});
