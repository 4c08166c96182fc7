/**
 * The composition root: from a validated config, build the storage driver, the meta store, the
 * registry domain and the HTTP server, and start them. No logic lives here beyond wiring; every
 * optional feature is switched on from here alone. Run as a script, it hands argv to the CLI.
 */
import type { Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import type { Config } from './config/schema.ts';
import { parseAddr } from './config/addr.ts';
import { readFileSync } from 'node:fs';
import { createHttpServer, DEFAULT_LIMITS, type TlsMaterial } from './http/server.ts';
import { SqliteMetaStore } from './meta/sqlite/sqlite-store.ts';
import type { MetaStore } from './meta/store.ts';
import { Registry } from './registry/registry.ts';
import { withPathValidation } from './storage/base.ts';
import type { StorageDriver } from './storage/driver.ts';
import { FilesystemDriver } from './storage/drivers/fs.ts';
import { MemoryDriver } from './storage/drivers/memory.ts';
import { startUploadPurger } from './registry/upload-purger.ts';

export interface RunningRegistry {
  server: Server;
  registry: Registry;
  /** The address actually listened on (port resolved when 0 was asked). */
  address: { host: string; port: number };
  log: Logger;
  /** Stop accepting connections, let in-flight requests finish up to the deadline, close stores. */
  close(deadlineMs?: number): Promise<void>;
}

export function createLogger(config: Config): Logger {
  return pino({ level: config.log.level, base: { service: 'berth', ...config.log.fields } });
}

export function createDriver(config: Config): StorageDriver {
  const storage = config.storage;
  const driver = storage.driver === 'inmemory' ? new MemoryDriver() : new FilesystemDriver(path.resolve(storage.filesystem.rootdirectory));
  return withPathValidation(driver);
}

export function createMetaStore(config: Config): MetaStore {
  return new SqliteMetaStore(config.meta.sqlite.path);
}

export async function startRegistry(config: Config, log: Logger = createLogger(config)): Promise<RunningRegistry> {
  const driver = createDriver(config);
  const meta = createMetaStore(config);
  const registry = new Registry({
    driver,
    meta,
    deleteEnabled: config.storage.delete.enabled,
    readOnly: config.storage.maintenance.readonly.enabled,
    log,
  });
  await registry.open();
  const tls = config.http.tls;
  const material: TlsMaterial | undefined = tls && {
    cert: readFileSync(tls.certificate),
    key: readFileSync(tls.key),
    clientCAs: tls.clientcas.map((f) => readFileSync(f)),
  };
  const server = createHttpServer({
    registry,
    log,
    options: {
      host: config.http.host,
      prefix: config.http.prefix,
      relativeUrls: config.http.relativeurls,
      headers: config.http.headers,
      redirectDisabled: config.storage.redirect.disable,
      accessLog: !config.log.accesslog.disabled,
      catalogMaxEntries: config.catalog.maxentries,
    },
  }, DEFAULT_LIMITS, material);
  const purger = startUploadPurger(registry.uploads, config.storage.maintenance.uploadpurging, log);
  const { host, port } = parseAddr(config.http.addr);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host || undefined, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const address = typeof bound === 'object' && bound !== null ? { host: bound.address, port: bound.port } : { host, port };
  log.info({ addr: `${address.host}:${address.port}`, storage: config.storage.driver, meta: config.meta.sqlite.path }, 'listening');
  return {
    server,
    registry,
    address,
    log,
    async close(deadlineMs = 10_000) {
      purger.stop();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.closeAllConnections();
        }, deadlineMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
      await registry.close();
      await meta.close();
    },
  };
}

// Run as a script: hand argv to the CLI. Not a top-level await: the CLI imports this module,
// which must finish evaluating first.
const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(path.resolve(entry)).href) {
  void import('./cli/index.ts')
    .then(({ runCli }) => runCli(process.argv.slice(2)))
    .then((code) => {
      process.exitCode = code;
    });
}
