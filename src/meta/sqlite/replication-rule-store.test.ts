import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runReplicationRuleStoreConformance } from '../../replication/rule-store-conformance.ts';
import { SqliteReplicationRuleStore } from './replication-rule-store.ts';
import { SqliteReplicationStore } from './replication-store.ts';
import { SqliteMetaStore } from './sqlite-store.ts';

runReplicationRuleStoreConformance('sqlite', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-replication-rules-'));
  const file = path.join(dir, 'meta.db');
  const meta = new SqliteMetaStore(file);
  const others: SqliteMetaStore[] = [];
  return {
    rules: new SqliteReplicationRuleStore(meta.database),
    runs: new SqliteReplicationStore(meta.database),
    // a connection of its own, as another process on the file (`berth replication add` beside the server)
    other: async () => {
      const second = new SqliteMetaStore(file);
      others.push(second);
      return new SqliteReplicationRuleStore(second.database);
    },
    cleanup: async () => {
      for (const m of others) await m.close();
      await meta.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
});
