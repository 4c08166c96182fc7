import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runSearchIndexConformance } from '../../search/conformance.ts';
import { SqliteAccountStore } from './account-store.ts';
import { SqliteMetaStore } from './sqlite-store.ts';
import { SqliteSearchIndex } from './search-index.ts';

runSearchIndexConformance('sqlite', async (now) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-search-'));
  const meta = new SqliteMetaStore(path.join(dir, 'meta.db'), { now });
  return {
    meta,
    accounts: new SqliteAccountStore(meta.database),
    index: new SqliteSearchIndex(meta.database),
    cleanup: () => fs.rm(dir, { recursive: true, force: true }),
  };
});
