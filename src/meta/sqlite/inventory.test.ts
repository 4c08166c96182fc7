import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runBlobInventoryConformance } from '../inventory-conformance.ts';
import { SqliteBlobInventory } from './inventory.ts';
import { SqliteMetaStore } from './sqlite-store.ts';

runBlobInventoryConformance('sqlite', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-inventory-'));
  const meta = new SqliteMetaStore(path.join(dir, 'meta.db'));
  return {
    meta,
    inventory: new SqliteBlobInventory(meta.database),
    markCollecting: async (digest) => void meta.database.prepare('INSERT INTO gc_blob_deleting (digest, size, expires_at) VALUES (?, 1, 0)').run(digest),
    cleanup: async () => {
      await meta.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
});
