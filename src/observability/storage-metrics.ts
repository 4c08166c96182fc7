/**
 * Metrics around any StorageDriver, applied once in the composition root like
 * withPathValidation (../storage/base.ts): every driver call is timed into
 * berth_storage_operation_duration_seconds{driver,operation}, and every rejection is counted in
 * berth_storage_errors_total by its error's `code` (a StorageError's BERTH_* code, or Node's
 * errno code such as ENOSPC). PathNotFoundError is counted like any other code but is often the
 * expected answer (a stat before a push, a getContent of an optional file): alert on the other
 * codes. For reader and writer the open is timed, not the stream's life.
 */
import type { StorageDriver } from '../storage/driver.ts';
import { errnoOf } from '../storage/drivers/fs-util.ts';
import { instrumentMethods, type MethodList } from './instrument.ts';
import type { Metrics } from './metrics.ts';

const STORAGE_METHODS: MethodList<StorageDriver> = {
  getContent: true,
  putContent: true,
  flush: true,
  openFile: true,
  reader: true,
  writer: true,
  stat: true,
  list: true,
  move: true,
  delete: true,
  redirectURL: true,
  walk: true,
};

export function withStorageMetrics(driver: StorageDriver, metrics: Metrics): StorageDriver {
  const name = driver.name;
  return {
    name,
    ...instrumentMethods(driver, STORAGE_METHODS, (operation, seconds, failure) => {
      metrics.observeStorage(name, operation, seconds, failure && (errnoOf(failure.error) ?? 'UNKNOWN'));
    }),
  };
}
