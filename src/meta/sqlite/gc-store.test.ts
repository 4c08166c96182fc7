import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runGcConformance } from '../gc-conformance.ts';
import { openSqliteBackend } from './backend.ts';

runGcConformance('sqlite', async (now) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-gc-'));
  const backend = openSqliteBackend({ path: path.join(dir, 'meta.db'), now });
  return { meta: backend.meta, gc: backend.gc, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
});
