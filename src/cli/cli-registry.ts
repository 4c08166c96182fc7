/**
 * A Registry over the server's storage and meta store for CLI commands that change content beside
 * a serving berth (`berth gc`, `berth repo delete`): the server's guards (immutable tags, quotas)
 * apply, and its stores emit into the durable notification queue, which the serving berth's
 * dispatcher sends. Not opened: the server's blob journal is its own to recover.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { Backend } from '../meta/backend.ts';
import type { ContentGuards } from '../registry/guards.ts';
import type { Registry } from '../registry/registry.ts';
import type { StorageDriver } from '../storage/driver.ts';
import type { CliIO } from './command.ts';

export interface CliRegistry {
  registry: Registry;
  backend: Backend;
  /** The unwrapped driver (garbage collection deletes bytes through it). */
  driver: StorageDriver;
  guards: ContentGuards;
  log: Logger;
}

/** Run `fn` with a registry over the config's storage and meta store, closed after. */
export async function withCliRegistry<T>(config: Config, io: CliIO, fn: (r: CliRegistry) => Promise<T>): Promise<T> {
  const [{ openBackend }, { createDriver }, { Registry }, { queueSink }, { emittingDecorator }, { pino }, { parseAddr }, { contentGuards }] = await Promise.all([
    import('../meta/open-backend.ts'),
    import('../main.ts'),
    import('../registry/registry.ts'),
    import('../events/notifications.ts'),
    import('../events/emitting-stores.ts'),
    import('pino'),
    import('../config/addr.ts'),
    import('../registry/guards.ts'),
  ]);
  const log = pino({ level: 'warn' }, { write: (line: string) => io.stderr.write(line) });
  const backend = await openBackend(config);
  try {
    const driver = await createDriver(config);
    const sink = queueSink({ config: config.notifications, queue: backend.events, log, port: parseAddr(config.http.addr).port });
    const guards = contentGuards(config.access, backend, backend.meta);
    const registry = new Registry({
      driver,
      meta: backend.meta,
      guards: guards.all,
      deleteEnabled: config.storage.delete.enabled,
      readOnly: config.storage.maintenance.readonly.enabled,
      log,
      decorate: emittingDecorator(sink),
    });
    return await fn({ registry, backend, driver, guards, log });
  } finally {
    await backend.close();
  }
}
