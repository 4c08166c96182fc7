import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runAccountStoreConformance } from '../../auth/store-conformance.ts';
import { openSqliteBackend } from './backend.ts';

runAccountStoreConformance('sqlite', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-accounts-'));
  const backend = openSqliteBackend({ path: path.join(dir, 'meta.db') });
  return {
    store: backend.accounts,
    cleanup: async () => {
      await backend.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
});
