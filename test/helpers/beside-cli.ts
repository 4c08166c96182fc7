/**
 * A serving berth and a `berth` CLI command beside it on one SQLite database: what the command
 * commits, the server's caches must see. In one process, two connections to the database file
 * (SQLite's data_version is per connection, not per process); against a real server, the command
 * run as a process while requests keep the server's cache fresh.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SqliteMetaStore } from '../../src/meta/sqlite/sqlite-store.ts';
import { MemoryDriver } from '../../src/storage/drivers/memory.ts';
import { Registry } from '../../src/registry/registry.ts';
import { after, before } from 'node:test';
import { Client } from './client.ts';
import { run, startBerth, type BerthProcess, type RunResult } from './process.ts';

export interface RegistriesBesideCli {
  driver: MemoryDriver;
  serverMeta: SqliteMetaStore;
  cliMeta: SqliteMetaStore;
  /** The serving registry, its cache lookups recorded in `lookups`. */
  server: Registry;
  /** The CLI's registry, on its own connection to the same database file. */
  cli: Registry;
  lookups: { cache: string; hit: boolean }[];
  close(): Promise<void>;
}

/** Two registries (deletes enabled) over one storage and one SQLite file in a new temp dir. */
export async function registriesBesideCli(prefix: string): Promise<RegistriesBesideCli> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `berth-${prefix}-`));
  const driver = new MemoryDriver();
  const serverMeta = new SqliteMetaStore(path.join(dir, 'meta.db'));
  const cliMeta = new SqliteMetaStore(path.join(dir, 'meta.db'));
  const lookups: { cache: string; hit: boolean }[] = [];
  return {
    driver,
    serverMeta,
    cliMeta,
    server: new Registry({ driver, meta: serverMeta, deleteEnabled: true, readOnly: false, onCacheLookup: (cache, hit) => lookups.push({ cache, hit }) }),
    cli: new Registry({ driver, meta: cliMeta, deleteEnabled: true, readOnly: false }),
    lookups,
    async close() {
      await cliMeta.close();
      await serverMeta.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `berth ARGS` on the server's storage and database, with `request` sent to the server over and
 * over all the while the command starts and runs: what the server then holds in memory was read
 * moments before the command's commit (an entry older than the cache's TTL would be read again anyway).
 */
export async function runBesideServer(server: BerthProcess, args: string[], env: Record<string, string | undefined>, request: () => Promise<unknown>): Promise<RunResult> {
  const cli = run(process.execPath, ['bin/berth.js', ...args], {
    env: { ...env, REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: server.root, REGISTRY_CONFIGURATION_PATH: undefined, REGISTRY_LOG_LEVEL: 'warn', BERTH_FROM_SOURCE: '1' },
    input: '',
  });
  let exited = false;
  void cli.finally(() => (exited = true));
  while (!exited) await request();
  return cli;
}

/** The environment of the server and of the commands beside it: deletes enabled. */
const BESIDE_ENV = { REGISTRY_STORAGE_DELETE_ENABLED: 'true' };

/**
 * A real `berth serve` (deletes enabled) for the enclosing describe(), and `beside(args, request,
 * env)`: a CLI command run beside it on the same database while `request` keeps the server busy.
 */
export function useServerBesideCli(): {
  readonly server: BerthProcess;
  readonly client: Client;
  beside(args: string[], request: () => Promise<unknown>, env?: Record<string, string>): Promise<RunResult>;
} {
  let server: BerthProcess | undefined;
  let client: Client | undefined;
  before(async () => {
    server = await startBerth({ env: BESIDE_ENV });
    client = new Client(server.url);
  });
  after(() => server?.stop());
  const started = (): { server: BerthProcess; client: Client } => {
    if (server === undefined || client === undefined) throw new Error('server not started: use it inside a test');
    return { server, client };
  };
  return {
    get server() {
      return started().server;
    },
    get client() {
      return started().client;
    },
    beside: (args, request, env = {}) => runBesideServer(started().server, args, { ...BESIDE_ENV, ...env }, request),
  };
}
