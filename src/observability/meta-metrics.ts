/**
 * Metrics around any MetaStore: every call timed into
 * berth_meta_operation_duration_seconds{operation}, whatever its outcome. Applied once in the
 * composition root, so the SQLite (and later PostgreSQL) store stays free of it.
 */
import type { MetaStore } from '../meta/store.ts';
import { instrumentMethods, type MethodList } from './instrument.ts';
import type { Metrics } from './metrics.ts';

const META_METHODS: MethodList<MetaStore> = {
  getRepositoryBlob: true,
  getBlob: true,
  findLinkedBlob: true,
  linkBlob: true,
  unlinkBlob: true,
  linkExisting: true,
  beginBlobWrite: true,
  endBlobWrite: true,
  putManifest: true,
  getManifest: true,
  resolveTag: true,
  deleteManifest: true,
  deleteTag: true,
  listTags: true,
  listRepositories: true,
  listReferrers: true,
  repositoryExists: true,
  repositoryTimes: true,
  queryTags: true,
  tagsOf: true,
  totalSize: true,
  listManifests: true,
  journaledBlobs: true,
  clearJournal: true,
  createUpload: true,
  getUpload: true,
  persistUpload: true,
  deleteUpload: true,
  listUploads: true,
  ping: true,
  close: true,
};

export function withMetaMetrics(meta: MetaStore, metrics: Metrics): MetaStore {
  const timed = instrumentMethods(meta, META_METHODS, (operation, seconds) => metrics.observeMeta(operation, seconds));
  // A counter read, not an operation: passed through untimed, where the store has it.
  if (meta.externalChanges === undefined) return timed;
  return { ...timed, externalChanges: meta.externalChanges.bind(meta) };
}
