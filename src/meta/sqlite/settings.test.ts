import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runSettingsConformance } from '../settings-conformance.ts';
import { SqliteSettingsStore } from './settings.ts';
import { SqliteMetaStore } from './sqlite-store.ts';

runSettingsConformance('sqlite', async (now) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-settings-'));
  const meta = new SqliteMetaStore(path.join(dir, 'meta.db'));
  return {
    settings: new SqliteSettingsStore(meta.database, now),
    other: async () => new SqliteSettingsStore(meta.database, now),
    cleanup: async () => {
      await meta.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
});
