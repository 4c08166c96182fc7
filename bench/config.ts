// Benchmark settings, read once from the environment.
//   BENCH_QUICK=1        smoke run: 256 MiB blobs (8 MiB for the concurrent pushers), 3 s loads, 1 run
//   BENCH_BIG=0          skip the 4 GiB (quick: 1 GiB) berth-only memory check
//   BENCH_RUNS=N         interleaved runs per measurement (median reported)
//   BENCH_LOAD_SECONDS=N duration of each wrk/autocannon load
//   BENCH_SMALL_PUSHES=N number of sequential 4 KiB pushes per run
//   BENCH_BERTH=0        skip berth even if src/main.ts exists
//   BENCH_CLUSTER=0      skip issue 14's sections (S3 on Ceph RGW, nginx + 1 vs 3 nodes, PostgreSQL vs SQLite)
//   BENCH_S3_RUNS=N      interleaved runs of the S3 section's 1 GiB pushes and pulls (default 1: each takes 30-100 s on RGW here)
//   BENCH_GC=0           skip section 14 (garbage collection over 100,000 repositories, bench/gc.ts)
//   BENCH_GC_REPOS=N     repositories of section 14's dataset, 10 blob links each (default 100,000; quick 10,000)
//   BENCH_BERTH_DIR=DIR  measure the berth already built in DIR (DIR/bin/berth.js and DIR/dist/, e.g. made by
//                        a snapshot script) instead of running `npm run build` into this checkout's shared dist/
//   BENCH_ISSUE18=1      only the sections issue 18's targets read (1-6b, 8, 15, 16): skips 7 and 9-14
//   BENCH_CURL_RUNS=N    interleaved runs of the 256 MiB `curl -T` push rows (default 3; quick 1)
//   BENCH_CURL_PULL_RUNS=N interleaved runs of the 256 MiB `curl` pull rows (default 5; quick 1)
//   BENCH_COPY=0         skip section 18 (moving images: `berth cp` beside `skopeo copy` of a 1 GiB image, replication
//                        of 1,000 tags; bench/copy.ts, ~3 min); full runs only, never with BENCH_ISSUE18=1

import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

const MiB = 1024 * 1024;

/** BENCH_BERTH_DIR, checked: an absolute directory holding a built berth; undefined when unset. */
export function berthDirFromEnv(): string | undefined {
  const dir = process.env.BENCH_BERTH_DIR;
  if (dir === undefined || dir === '') return undefined;
  if (!isAbsolute(dir)) throw new Error(`BENCH_BERTH_DIR=${dir}: expected an absolute path`);
  for (const f of ['bin/berth.js', 'dist/cli/index.js']) {
    if (!existsSync(join(dir, f))) throw new Error(`BENCH_BERTH_DIR=${dir}: ${f} is missing (build it first)`);
  }
  return dir;
}

function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number.parseInt(raw, 10);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new Error(`${name}=${raw}: expected an integer in [${min}, ${max}]`);
  }
  return n;
}

export interface BenchConfig {
  quick: boolean;
  big: boolean;
  berthEnabled: boolean;
  cluster: boolean;
  issue18Only: boolean;
  runs: number;
  blobSize: number;
  chunkSize: number;
  bigRepeat: number;
  loadSeconds: number;
  warmupSeconds: number;
  smallPushes: number;
  smallBlobSize: number;
  tags: number;
  repos: number;
  connections: number[];
  /** S3 section: the blob pushed and pulled, the small one of the memory rows, the PATCH size. */
  s3BlobSize: number;
  s3SmallBlobSize: number;
  s3Runs: number;
  s3ChunkSize: number;
  /** Issue 18 rows: the `curl -T` monolithic push and `curl` pull blob (256 MiB in both modes). */
  curlBlobSize: number;
  curlPushRuns: number;
  curlPullRuns: number;
  /** Concurrent pushers of distinct blobs of concurrentBlobSize each; concurrent pulls of one blob. */
  concurrentPushers: number[];
  concurrentBlobSize: number;
  concurrentPulls: number;
  /** Concurrent 4 KiB pushers (each on its own keep-alive connection); smallPushes pushes shared among them. */
  smallPushers: number[];
  /** Machine limits: dd with fdatasync and sha256 in Node over this many bytes. */
  limitBytes: number;
}

export function readConfig(): BenchConfig {
  const quick = process.env.BENCH_QUICK === '1';
  return {
    quick,
    big: process.env.BENCH_BIG !== '0',
    berthEnabled: process.env.BENCH_BERTH !== '0',
    cluster: process.env.BENCH_CLUSTER !== '0',
    issue18Only: process.env.BENCH_ISSUE18 === '1',
    runs: envInt('BENCH_RUNS', quick ? 1 : 3, 1, 20),
    blobSize: (quick ? 256 : 1024) * MiB,
    chunkSize: 64 * MiB,
    bigRepeat: 4,
    loadSeconds: envInt('BENCH_LOAD_SECONDS', quick ? 3 : 5, 1, 10),
    warmupSeconds: 1,
    smallPushes: envInt('BENCH_SMALL_PUSHES', quick ? 200 : 1000, 1, 100000),
    smallBlobSize: 4096,
    tags: 50,
    repos: 200,
    connections: [1, 64],
    s3BlobSize: (quick ? 64 : 1024) * MiB,
    s3SmallBlobSize: (quick ? 16 : 64) * MiB,
    s3Runs: envInt('BENCH_S3_RUNS', 1, 1, 20),
    s3ChunkSize: (quick ? 16 : 64) * MiB,
    curlBlobSize: 256 * MiB,
    curlPushRuns: envInt('BENCH_CURL_RUNS', quick ? 1 : 3, 1, 20),
    curlPullRuns: envInt('BENCH_CURL_PULL_RUNS', quick ? 1 : 5, 1, 20),
    concurrentPushers: [8, 32],
    concurrentBlobSize: (quick ? 8 : 64) * MiB,
    concurrentPulls: 16,
    smallPushers: [1, 8, 32],
    limitBytes: (quick ? 256 : 1024) * MiB,
  };
}

export { MiB };
