import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runTagActivityConformance } from '../tag-activity-conformance.ts';
import { openSqliteBackend } from './backend.ts';

runTagActivityConformance('sqlite', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-tag-activity-'));
  const { meta, tagActivity } = openSqliteBackend({ path: path.join(dir, 'meta.db') });
  return { meta, activity: tagActivity, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
});
