import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runEventQueueConformance } from '../../events/queue-conformance.ts';
import { SqliteEventQueue } from './event-queue.ts';
import { SqliteMetaStore } from './sqlite-store.ts';

runEventQueueConformance('sqlite', async (now) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-events-'));
  const meta = new SqliteMetaStore(path.join(dir, 'meta.db'));
  return {
    queue: new SqliteEventQueue(meta.database, now),
    cleanup: async () => {
      await meta.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
});
