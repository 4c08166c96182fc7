// The garbage collection section's dataset (bench/gc.ts): `repos` repositories of ten blob links
// each, inserted straight into a migrated berth database in one transaction (rows as pushes leave
// them: repository, blobs, links, manifest, references, tag `latest`; the search and GC triggers
// fire as for a push, so every blob and manifest ends up queued for review, as after the upgrade
// that added the queues). Only blobs something reads or deletes get files in the filesystem
// driver's layout: the manifests the load generator GETs (real JSON, real digests: the server
// verifies them) and every blob of the repositories turned into garbage (filler bytes of the
// recorded size). The pass never reads a blob's bytes, only deletes the dangling ones.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SqliteMetaStore } from '../src/meta/sqlite/sqlite-store.ts';
import { blobDataPath } from '../src/storage/paths.ts';

export const LINKS_PER_REPO = 10;
/** Base layers every repository shares two of (each linked by repos/100 repositories). */
const SHARED = 200;
const UNIQUE_LAYERS = 6;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DAY_MS = 24 * 60 * 60 * 1000;

export interface GcDataset {
  root: string;
  repos: number;
  links: number;
  blobs: number;
  /** Repositories whose manifest the load generator GETs by tag: every 10th (index 10k). */
  targets: number;
  /** 1% of the repositories (so 1% of the links): their tag deleted, for the steady-state row. */
  untag: string[];
  /** Another 1% for the same row with the pass in its own process. */
  untagSeparate: string[];
  /** Manifests deleted (as an API DELETE) so that their 8 unique blobs each wait in the queue, dangling. */
  deleted: { repo: string; digest: string }[];
  /** Bytes written for blobs with files. */
  fileBytes: number;
  files: number;
  seconds: number;
}

export function repoName(i: number): string {
  return `ns${String(i % 1000).padStart(3, '0')}/app-${i}`;
}

/** A digest that names blob kind `kind` of repository `i`: never read, only compared and deleted. */
function synthetic(kind: number, i: number): string {
  return `sha256:${kind.toString(16).padStart(4, '0')}${i.toString(16).padStart(60, '0')}`;
}

/** Layer sizes spread log-uniformly over 8 KiB..512 KiB, the same every run. */
function layerSize(i: number, j: number): number {
  const h = (Math.imul(i + 1, 2654435761) ^ Math.imul(j + 1, 40503)) >>> 0;
  return Math.round(8192 * 2 ** ((h % 6000) / 1000));
}

const isUntag = (i: number): boolean => i % 100 === 1;
const isUntagSeparate = (i: number): boolean => i % 100 === 5;
/** 1 in 80: repos/80 manifests, 10,000 dangling blobs at 100,000 repositories. */
const isDeleted = (i: number): boolean => i % 80 === 3;
const isTarget = (i: number): boolean => i % 10 === 0;

export function buildGcDataset(root: string, repos: number): GcDataset {
  const started = performance.now();
  const file = join(root, 'berth.db');
  mkdirSync(root, { recursive: true });
  const meta = new SqliteMetaStore(file); // migrated: tables, triggers, queues
  const db = meta.database;
  // One big transaction: no fsync until its end, and the statement journals that the triggers need
  // (a page already changed in the transaction is copied before each statement changes it) in memory.
  db.pragma('synchronous = OFF');
  db.pragma('temp_store = MEMORY');
  db.pragma('cache_size = -262144');
  const old = Date.now() - 2 * DAY_MS;
  const insertRepo = db.prepare('INSERT INTO repositories (name, created_at, updated_at) VALUES (?, ?, ?)');
  const insertBlob = db.prepare('INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?)');
  const link = db.prepare('INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES (?, ?, ?)');
  const insertManifest = db.prepare(
    'INSERT INTO manifests (repository_id, digest, media_type, artifact_type, size, subject_digest, annotations, created_at) VALUES (?, ?, ?, NULL, ?, NULL, NULL, ?)',
  );
  const reference = db.prepare("INSERT INTO manifest_references (repository_id, manifest_digest, child_digest, kind) VALUES (?, ?, ?, 'blob')");
  const tag = db.prepare("INSERT INTO tags (repository_id, name, manifest_digest, updated_at) VALUES (?, 'latest', ?, ?)");

  const filler = Buffer.alloc(512 * 1024, 0x5a);
  const dirs = new Set<string>();
  let fileBytes = 0;
  let files = 0;
  const writeBlob = (digest: string, data: Buffer): void => {
    const path = join(root, blobDataPath('sha256', digest.slice('sha256:'.length)));
    const dir = dirname(path);
    if (!dirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      dirs.add(dir);
    }
    writeFileSync(path, data);
    fileBytes += data.length;
    files++;
  };

  const shared = Array.from({ length: SHARED }, (_, k) => synthetic(9, k));
  const untag: string[] = [];
  const untagSeparate: string[] = [];
  const deleted: { repo: string; digest: string }[] = [];
  db.transaction(() => {
    for (const d of shared) insertBlob.run(d, 30_000_000, old);
    for (let i = 0; i < repos; i++) {
      const name = repoName(i);
      const id = Number(insertRepo.run(name, old, old).lastInsertRowid);
      const garbage = isUntag(i) || isUntagSeparate(i) || isDeleted(i);
      const config = { digest: synthetic(1, i), size: 1400 + (i % 600) };
      const layers = Array.from({ length: UNIQUE_LAYERS }, (_, j) => ({ digest: synthetic(2 + j, i), size: layerSize(i, j) }));
      const base = [shared[i % SHARED], shared[(i + SHARED / 2 + 1) % SHARED]].map((digest) => ({ digest: digest ?? '', size: 30_000_000 }));
      const children = [config, ...base, ...layers];
      let manifest = { digest: synthetic(8, i), size: 1100 };
      if (isTarget(i)) {
        const body = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: OCI_MANIFEST,
            config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
            layers: [...base, ...layers].map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l })),
          }),
        );
        manifest = { digest: `sha256:${createHash('sha256').update(body).digest('hex')}`, size: body.length };
        writeBlob(manifest.digest, body);
      } else if (garbage) {
        writeBlob(manifest.digest, filler.subarray(0, manifest.size));
        writeBlob(config.digest, filler.subarray(0, config.size));
        for (const l of layers) writeBlob(l.digest, filler.subarray(0, l.size));
      }
      for (const c of [config, ...layers]) insertBlob.run(c.digest, c.size, old);
      insertBlob.run(manifest.digest, manifest.size, old);
      for (const c of children) link.run(id, c.digest, old);
      link.run(id, manifest.digest, old);
      insertManifest.run(id, manifest.digest, OCI_MANIFEST, manifest.size, old);
      for (const c of children) reference.run(id, manifest.digest, c.digest);
      tag.run(id, manifest.digest, old);
      if (isUntag(i)) untag.push(name);
      if (isUntagSeparate(i)) untagSeparate.push(name);
      if (isDeleted(i)) deleted.push({ repo: name, digest: manifest.digest });
    }
  })();
  // Fold the build out of the WAL, as a long-running registry's checkpoints would have.
  db.pragma('wal_checkpoint(TRUNCATE)');
  void meta.close();
  return {
    root,
    repos,
    links: repos * LINKS_PER_REPO,
    blobs: repos * (UNIQUE_LAYERS + 2) + SHARED,
    targets: Math.ceil(repos / 10),
    untag,
    untagSeparate,
    deleted,
    fileBytes,
    files,
    seconds: (performance.now() - started) / 1000,
  };
}
