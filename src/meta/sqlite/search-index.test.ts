import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runSearchIndexConformance } from '../../search/conformance.ts';
import { openSqliteBackend } from './backend.ts';

runSearchIndexConformance('sqlite', async (now) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-search-'));
  const { meta, accounts, search } = openSqliteBackend({ path: path.join(dir, 'meta.db'), now });
  return { meta, accounts, index: search, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
});
