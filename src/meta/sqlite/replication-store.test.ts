import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runReplicationStoreConformance } from '../../replication/store-conformance.ts';
import { SqliteReplicationStore } from './replication-store.ts';
import { SqliteMetaStore } from './sqlite-store.ts';

runReplicationStoreConformance('sqlite', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-replication-'));
  const file = path.join(dir, 'meta.db');
  const meta = new SqliteMetaStore(file);
  const others: SqliteMetaStore[] = [];
  return {
    store: new SqliteReplicationStore(meta.database),
    // a connection of its own, as another process on the file (`berth replicate` beside the server)
    other: async () => {
      const second = new SqliteMetaStore(file);
      others.push(second);
      return new SqliteReplicationStore(second.database);
    },
    cleanup: async () => {
      for (const m of others) await m.close();
      await meta.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
});
