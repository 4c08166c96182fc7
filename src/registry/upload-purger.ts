/** storage.maintenance.uploadpurging: remove abandoned upload sessions on a timer. */
import type { Logger } from 'pino';
import type { UploadService } from './uploads.ts';

export interface UploadPurgingOptions {
  enabled: boolean;
  /** Sessions older than this many milliseconds are removed. */
  age: number;
  /** Milliseconds between runs. */
  interval: number;
  dryrun: boolean;
}

export function startUploadPurger(uploads: UploadService, opts: UploadPurgingOptions, log: Logger): { stop(): void } {
  if (!opts.enabled) return { stop() {} };
  const run = async () => {
    try {
      const removed = await uploads.purge(Date.now() - opts.age, opts.dryrun);
      if (removed.length > 0) log.info({ count: removed.length, dryrun: opts.dryrun }, 'purged abandoned uploads');
    } catch (err) {
      log.error({ err }, 'upload purging failed');
    }
  };
  const timer = setInterval(() => void run(), opts.interval);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
