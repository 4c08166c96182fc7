import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runEventQueueConformance } from '../../events/queue-conformance.ts';
import { openSqliteBackend } from './backend.ts';

runEventQueueConformance('sqlite', async (now) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-events-'));
  const backend = openSqliteBackend({ path: path.join(dir, 'meta.db'), now });
  return {
    queue: backend.events,
    cleanup: async () => {
      await backend.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
});
