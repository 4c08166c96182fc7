import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runEventQueueConformance } from '../../events/queue-conformance.ts';
import { DEFAULT_CLAIM_LEASE_MS } from '../event-claim.ts';
import { openSqliteBackend } from './backend.ts';
import { SqliteEventQueue } from './event-queue.ts';
import { SqliteMetaStore } from './sqlite-store.ts';

runEventQueueConformance('sqlite', async (now) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-events-'));
  const file = path.join(dir, 'meta.db');
  const backend = openSqliteBackend({ path: file, now });
  // the peer: a second connection to the same file with a holder of its own (two servers on one
  // SQLite file are not supported, but the leases behave as on PostgreSQL)
  const other = new SqliteMetaStore(file, { now });
  return {
    queue: backend.events,
    peer: new SqliteEventQueue(other.database, now, { holder: 'peer' }),
    leaseMs: DEFAULT_CLAIM_LEASE_MS,
    cleanup: async () => {
      await other.close();
      await backend.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
});
