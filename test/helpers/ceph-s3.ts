/**
 * A throwaway Ceph RADOS Gateway (a real S3 server) for the S3 driver's tests, through
 * test/s3/ceph-s3.sh: one monitor and one memstore OSD (data in RAM) plus radosgw, on free
 * loopback ports and a state directory of its own, so test files can run side by side. Starting
 * takes about 2-3 s. Skips with a printed reason when Ceph is not installed; fails under CI=true.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, REPO_ROOT, requireTools, runOk, tempDir } from './process.ts';

export const cephTools = (): ReturnType<typeof requireTools> => requireTools('radosgw', 'ceph-mon', 'ceph-osd');

const SCRIPT = join(REPO_ROOT, 'test', 's3', 'ceph-s3.sh');
const ACCESS_KEY = 'berthtestaccess';
const SECRET_KEY = 'berthtestsecret';

export interface CephS3 {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** A client with the settings RGW needs (path-style, checksums only when required, us-east-1). */
  client: S3Client;
  /** Create a bucket (RGW accepts CreateBucket only with region us-east-1). */
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

export interface CephS3Options {
  /** RAM the memstore OSD may hold (default 1 GiB). */
  memBytes?: number;
}

export async function startCephS3(opts: CephS3Options = {}): Promise<CephS3> {
  const dir = await tempDir('ceph-s3');
  const s3Port = await freePort();
  // The OSD binds MON_PORT+11..+60: choose the monitor's port low enough for that range.
  const monPort = 20000 + ((await freePort()) % 30000);
  const env = {
    S3_DIR: dir,
    S3_PORT: String(s3Port),
    MON_PORT: String(monPort),
    S3_ACCESS_KEY: ACCESS_KEY,
    S3_SECRET_KEY: SECRET_KEY,
    OSD_STORE: 'memstore',
    MEMSTORE_BYTES: String(opts.memBytes ?? 1024 * 1024 * 1024),
    // RGW frees a deleted object's data only at garbage collection, by default two hours later and
    // hourly: collect at once, or repeated pushes (and the S3 writer's append-by-copy) fill the memstore.
    CEPH_ARGS: '--rgw-gc-obj-min-wait=0 --rgw-gc-processor-period=2',
  };
  await runOk('bash', [SCRIPT, 'start'], { env, timeout: 90_000 });
  // If the test process ends without stop() (a crash, a timeout), still kill the daemons: they hold RAM.
  const killOnExit = (): void => killDaemons(dir);
  process.once('exit', killOnExit);
  const endpoint = `http://127.0.0.1:${s3Port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    client,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async stop() {
      process.off('exit', killOnExit);
      client.destroy();
      await runOk('bash', [SCRIPT, 'stop'], { env, timeout: 30_000 });
    },
  };
}

/** SIGKILL the daemons listed in the state directory's pids file, then remove it (synchronous, for process exit). */
function killDaemons(dir: string): void {
  let pids: string;
  try {
    pids = readFileSync(join(dir, 'pids'), 'utf8');
  } catch {
    return;
  }
  for (const pid of pids.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
