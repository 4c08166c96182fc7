/** An in-process berth on 127.0.0.1:0 for end-to-end HTTP tests (filesystem or in-memory storage). */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { pino } from 'pino';
import { Client } from './client.ts';
import { configSchema, type ConfigInput } from '../../src/config/schema.ts';
import { startRegistry, type RunningRegistry } from '../../src/main.ts';

export interface TestRegistry {
  url: string;
  root: string | undefined;
  running: RunningRegistry;
  stop(): Promise<void>;
}

export async function startTestRegistry(opts: { storage?: 'filesystem' | 'inmemory'; config?: ConfigInput } = {}): Promise<TestRegistry> {
  const kind = opts.storage ?? 'filesystem';
  const root = kind === 'filesystem' ? await fs.mkdtemp(path.join(os.tmpdir(), 'berth-e2e-')) : undefined;
  const base = opts.config ?? {};
  const config = configSchema.parse({
    ...base,
    http: { ...base.http, addr: '127.0.0.1:0' },
    log: { level: 'warn', ...base.log },
    storage: { ...base.storage, ...(root === undefined ? { inmemory: {} } : { filesystem: { rootdirectory: root } }) },
  });
  const running = await startRegistry(config, pino({ level: 'warn' }));
  return {
    url: `http://127.0.0.1:${running.address.port}`,
    root,
    running,
    async stop() {
      await running.close(1000);
      if (root !== undefined) await fs.rm(root, { recursive: true, force: true });
    },
  };
}

/**
 * A registry for the enclosing describe(): started before its tests, stopped after them. Read
 * `reg` and `client` inside tests (they exist once the before hook has run).
 */
export function useTestRegistry(opts: Parameters<typeof startTestRegistry>[0] = {}): { readonly reg: TestRegistry; readonly client: Client } {
  let reg: TestRegistry | undefined;
  let client: Client | undefined;
  before(async () => {
    reg = await startTestRegistry(opts);
    client = new Client(reg.url);
  });
  after(() => reg?.stop());
  return {
    get reg() {
      if (reg === undefined) throw new Error('registry not started: use it inside a test');
      return reg;
    },
    get client() {
      if (client === undefined) throw new Error('registry not started: use it inside a test');
      return client;
    },
  };
}
