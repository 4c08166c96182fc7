/**
 * The manifests row as both meta stores read it (sqlite/sqlite-store.ts, postgres/meta-store.ts),
 * its columns (from `manifests` aliased `m`) and its mapping to a ManifestRecord.
 */
import type { ManifestRecord } from '../store.ts';

export interface ManifestRow {
  digest: string;
  media_type: string;
  artifact_type: string | null;
  size: number;
  subject_digest: string | null;
  annotations: string | null;
  created_at: number;
}

export const MANIFEST_COLUMNS = 'm.digest, m.media_type, m.artifact_type, m.size, m.subject_digest, m.annotations, m.created_at';

export function toManifest(row: ManifestRow): ManifestRecord {
  return {
    digest: row.digest,
    mediaType: row.media_type,
    size: row.size,
    artifactType: row.artifact_type,
    subject: row.subject_digest,
    annotations: row.annotations === null ? null : (JSON.parse(row.annotations) as Record<string, string>),
    createdAt: row.created_at,
  };
}
