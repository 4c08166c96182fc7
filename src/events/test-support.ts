/** Shared by the notification tests: a meta store in a temp dir with its queue, events, a log to inspect. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { configSchema } from '../config/schema.ts';
import { SqliteEventQueue } from '../meta/sqlite/event-queue.ts';
import { SqliteMetaStore } from '../meta/sqlite/sqlite-store.ts';
import { endpointsFromConfig, type EndpointSettings } from './endpoint.ts';
import { createEvent, type EventAction, type EventTarget, type RegistryEvent, type RequestInfo } from './event.ts';

export const REQUEST: RequestInfo = { id: 'req-1', addr: '127.0.0.1:4000', host: 'registry.test', method: 'PUT', useragent: 'test/1.0' };
export const SOURCE = { addr: 'node-1:5000', instanceID: 'instance-1' };

let counter = 0;

/** A push (or other) event for a numbered manifest, with a recognisable tag. */
export function event(n: number, action: EventAction = 'push', target: Partial<EventTarget> = {}): RegistryEvent {
  const digest = `sha256:${n.toString(16).padStart(64, '0')}`;
  return createEvent(
    action,
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 10, digest, length: 10, repository: 'team/app', tag: `v${n}`, ...target },
    REQUEST,
    SOURCE,
    { now: () => new Date(1_700_000_000_000 + n), id: () => `event-${n}-${++counter}` },
  );
}

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
