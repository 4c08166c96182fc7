import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runAccountStoreConformance } from '../../auth/store-conformance.ts';
import { SqliteAccountStore } from './account-store.ts';
import { SqliteMetaStore } from './sqlite-store.ts';

runAccountStoreConformance('sqlite', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-accounts-'));
  const meta = new SqliteMetaStore(path.join(dir, 'meta.db'));
  return {
    store: new SqliteAccountStore(meta.database),
    cleanup: async () => {
      await meta.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
});
