/**
 * storage.maintenance.uploadpurging: remove abandoned upload sessions on a timer, and what the
 * storage driver keeps out of sight for interrupted writes (StorageDriver.purgeIncomplete: an
 * object store's incomplete multipart uploads) older than the same age.
 */
import type { Logger } from 'pino';
import type { RunOnce } from '../meta/leases.ts';
import type { StorageDriver } from '../storage/driver.ts';
import type { UploadService } from './uploads.ts';

export interface UploadPurgingOptions {
  enabled: boolean;
  /** Sessions older than this many milliseconds are removed. */
  age: number;
  /** Milliseconds between runs. */
  interval: number;
  dryrun: boolean;
}

export interface PurgeResult {
  /** Ids of the upload sessions removed (or that would be, in a dry run). */
  sessions: string[];
  /** Incomplete writes the driver removed (or would), 0 when it has no such thing. */
  incomplete: number;
}

/** One run: the sessions, then the driver's incomplete writes; each part runs even if the other fails. */
export async function purgeUploads(
  uploads: Pick<UploadService, 'purge'>,
  driver: Pick<StorageDriver, 'purgeIncomplete'> | undefined,
  opts: Pick<UploadPurgingOptions, 'age' | 'dryrun'>,
  log: Logger,
  now = Date.now(),
): Promise<PurgeResult> {
  const result: PurgeResult = { sessions: [], incomplete: 0 };
  try {
    result.sessions = await uploads.purge(now - opts.age, opts.dryrun);
    if (result.sessions.length > 0) log.info({ count: result.sessions.length, dryrun: opts.dryrun }, 'purged abandoned uploads');
  } catch (err) {
    log.error({ err }, 'upload purging failed');
  }
  if (driver?.purgeIncomplete !== undefined) {
    try {
      result.incomplete = await driver.purgeIncomplete(new Date(now - opts.age), { dryRun: opts.dryrun });
      if (result.incomplete > 0) log.info({ count: result.incomplete, dryrun: opts.dryrun }, 'purged incomplete writes in storage');
    } catch (err) {
      log.error({ err }, 'purging incomplete writes in storage failed');
    }
  }
  return result;
}

/**
 * Runs purgeUploads every `interval`, on one node at a time with `runOnce`. `driver` is the
 * storage driver (the one that is not wrapped in metrics is enough: only purgeIncomplete is called).
 */
export function startUploadPurger(uploads: UploadService, opts: UploadPurgingOptions, log: Logger, driver?: StorageDriver, runOnce?: RunOnce): { stop(): void } {
  if (!opts.enabled) return { stop() {} };
  const purge = async (): Promise<void> => void (await purgeUploads(uploads, driver, opts, log));
  // where several nodes share the sessions, one of them purges per interval (the lease's holder)
  const tick = (): Promise<unknown> => (runOnce === undefined ? purge() : runOnce('upload-purging', opts.interval, purge));
  const timer = setInterval(() => void tick().catch((err: unknown) => log.error({ err }, 'upload purging failed')), opts.interval);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
