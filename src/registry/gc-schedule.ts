/**
 * Garbage collection in the background (`storage.gc.interval`, `storage.gc.window`): every node
 * ticks each interval, and inside the window the holder of the 'gc' lease runs one collection, so
 * one node of a cluster collects at a time. The same wiring serves `berth gc` (src/cli/gc.ts).
 */
import type { Logger } from 'pino';
import { insideWindow, type GcConfig } from '../config/gc-schema.ts';
import { asSystem, SYSTEM_ACTORS } from '../events/context.ts';
import type { GcStore } from '../meta/gc.ts';
import type { RunOnce } from '../meta/leases.ts';
import type { StorageDriver } from '../storage/driver.ts';
import { GarbageCollector, type GcObserver } from './gc.ts';
import type { Registry } from './registry.ts';
import { purgeUploads, type UploadPurgingOptions } from './upload-purger.ts';

export interface CollectorDeps {
  registry: Registry;
  store: GcStore;
  /** The driver to delete bytes with (unwrapped is fine; purgeIncomplete is called on it too). */
  driver: StorageDriver;
  node: string;
  log: Logger;
  purging: Pick<UploadPurgingOptions, 'age'>;
  /** storage.delete.enabled and storage.maintenance.readonly.enabled. */
  deleteEnabled: boolean;
  readOnly: boolean;
  observer?: GcObserver;
  retention?: (dryRun: boolean) => Promise<unknown>;
}

/** The collector the config describes, over the registry's served manifests (deletes emit as the API's do). */
export function createCollector(config: GcConfig, deps: CollectorDeps): GarbageCollector {
  const { registry, log } = deps;
  return new GarbageCollector({
    store: deps.store,
    // its deletes' events say garbage collection made them (actor berth-gc)
    manifests: { delete: (repo, digest, opts) => asSystem(SYSTEM_ACTORS.gc, () => registry.manifests.delete(repo, digest, opts)) },
    driver: deps.driver,
    graceMs: config.grace,
    untagged: config.untagged,
    node: deps.node,
    deleteManifests: deps.deleteEnabled,
    readOnly: deps.readOnly,
    log,
    invalidate: (repo) => registry.local.blobs.invalidate(repo),
    purgeUploads: async (dryRun) => (await purgeUploads(registry.uploads, deps.driver, { age: deps.purging.age, dryrun: dryRun }, log)).sessions.length,
    ...(deps.observer !== undefined && { observer: deps.observer }),
    ...(deps.retention !== undefined && { retention: deps.retention }),
  });
}

/** Run the collector every interval, inside the window, on the lease's holder; stop() ends it. */
export function startGcSchedule(gc: GarbageCollector, config: GcConfig, runOnce: RunOnce, log: Logger, now: () => Date = () => new Date()): { stop(): void } {
  if (config.interval === 0) return { stop() {} };
  const tick = async (): Promise<void> => {
    if (!insideWindow(config.window, now())) return;
    await runOnce('gc', config.interval, async () => void (await gc.run({ trigger: 'schedule' })));
  };
  const timer = setInterval(() => void tick().catch((err: unknown) => log.error({ err }, 'garbage collection failed')), config.interval);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
