/**
 * The last phase of `berth migrate`: the target checked against the source's snapshot. Each
 * copied table holds as many rows as the source's, and every blob is in the target's storage
 * with its size (a stat each: a HEAD on S3, cheap beside the copy).
 */
import type { Queryable } from '../meta/postgres/database.ts';
import type { StorageDriver } from '../storage/driver.ts';
import { blobPath, sizeAt } from './blobs.ts';
import type { Progress } from './progress.ts';
import { quote, type SourceBlob, type SourceSnapshot } from './source.ts';

export interface CountMismatch {
  table: string;
  source: number;
  target: number;
}

export interface VerifyReport {
  tables: CountMismatch[];
  blobsChecked: number;
  /** Digests missing in the target, or there with another size. */
  blobsMissing: string[];
}

export async function verifyTarget(opts: {
  source: SourceSnapshot;
  tables: readonly string[];
  db: Queryable;
  blobs: readonly SourceBlob[];
  target: StorageDriver;
  concurrency?: number;
  progress: Progress;
}): Promise<VerifyReport> {
  const report: VerifyReport = { tables: [], blobsChecked: 0, blobsMissing: [] };
  const phase = opts.progress.phase('verify', opts.tables.length + opts.blobs.length, 'checks');
  for (const table of opts.tables) {
    const source = opts.source.count(table);
    const row = (await opts.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${quote(table)}`)).rows[0];
    const target = row?.n ?? 0;
    if (source !== target) report.tables.push({ table, source, target });
    phase.tick(1);
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < opts.blobs.length; i = next++) {
      const blob = opts.blobs[i] as SourceBlob;
      const size = await sizeAt(opts.target, blobPath(blob.digest)).catch(() => undefined);
      if (size !== blob.size) report.blobsMissing.push(blob.digest);
      report.blobsChecked++;
      phase.tick(1);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 8) }, worker));
  report.blobsMissing.sort();
  phase.done();
  return report;
}
