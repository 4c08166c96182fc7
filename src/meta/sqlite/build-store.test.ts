import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runBuildStoreConformance } from '../../builds/store-conformance.ts';
import { SqliteBuildStore } from './build-store.ts';
import { SqliteMetaStore } from './sqlite-store.ts';

runBuildStoreConformance('sqlite', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-builds-'));
  const meta = new SqliteMetaStore(path.join(dir, 'meta.db'));
  const read = meta.database.prepare<[string], { is_automated: number }>('SELECT is_automated FROM repository_info WHERE name = ?');
  return {
    store: new SqliteBuildStore(meta.database),
    other: async () => new SqliteBuildStore(meta.database),
    automated: async (name) => {
      const row = read.get(name);
      return row === undefined ? undefined : row.is_automated === 1;
    },
    cleanup: async () => {
      await meta.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
});
