/** Shared by the notification tests: a meta store in a temp dir with its queue, events, a log to inspect. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { configSchema } from '../config/schema.ts';
import { SqliteEventQueue } from '../meta/sqlite/event-queue.ts';
import { SqliteMetaStore } from '../meta/sqlite/sqlite-store.ts';
import { endpointsFromConfig, type EndpointSettings } from './endpoint.ts';

export { REQUEST, SOURCE, event } from './test-events.ts';

/** Endpoint settings through the real config schema, so the tests also read config as berth does. */
export function endpoints(raw: Record<string, unknown>[]): EndpointSettings[] {
  return endpointsFromConfig(configSchema.parse({ notifications: { endpoints: raw } }).notifications);
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export function captureLog(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { log, lines };
}

export interface TempStore {
  file: string;
  meta: SqliteMetaStore;
  queue: SqliteEventQueue;
  /** Close and open the same database again (a restart). */
  reopen(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function tempStore(): Promise<TempStore> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-events-'));
  const file = path.join(dir, 'berth.db');
  const meta = new SqliteMetaStore(file);
  const store: TempStore = {
    file,
    meta,
    queue: new SqliteEventQueue(meta.database),
    async reopen() {
      await store.meta.close();
      store.meta = new SqliteMetaStore(file);
      store.queue = new SqliteEventQueue(store.meta.database);
    },
    async cleanup() {
      await store.meta.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
  return store;
}
