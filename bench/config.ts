// Benchmark settings, read once from the environment.
//   BENCH_QUICK=1        ~2 minute smoke run: 256 MiB blobs, 3 s loads, 1 run
//   BENCH_BIG=0          skip the 4 GiB (quick: 1 GiB) berth-only memory check
//   BENCH_RUNS=N         interleaved runs per measurement (median reported)
//   BENCH_LOAD_SECONDS=N duration of each wrk/autocannon load
//   BENCH_SMALL_PUSHES=N number of sequential 4 KiB pushes per run
//   BENCH_BERTH=0        skip berth even if src/main.ts exists
//   BENCH_CLUSTER=0      skip issue 14's sections (S3 on Ceph RGW, nginx + 1 vs 3 nodes, PostgreSQL vs SQLite)
//   BENCH_S3_RUNS=N      interleaved runs of the S3 section's 1 GiB pushes and pulls (default 1: each takes 30-100 s on RGW here)
//   BENCH_GC=0           skip section 14 (garbage collection over 100,000 repositories, bench/gc.ts)
//   BENCH_GC_REPOS=N     repositories of section 14's dataset, 10 blob links each (default 100,000; quick 10,000)

const MiB = 1024 * 1024;

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
}

export function readConfig(): BenchConfig {
  const quick = process.env.BENCH_QUICK === '1';
  return {
    quick,
    big: process.env.BENCH_BIG !== '0',
    berthEnabled: process.env.BENCH_BERTH !== '0',
    cluster: process.env.BENCH_CLUSTER !== '0',
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
  };
}

export { MiB };
