// The shared backends of issue 14's sections (bench/s3.ts, bench/cluster.ts, bench/databases.ts):
// a throwaway Ceph RADOS Gateway (test/s3/ceph-s3.sh, memstore OSD in RAM) with buckets for berth
// and distribution, PostgreSQL (test/helpers/postgres.ts), and the config files of berth and
// distribution 2.8.2 on them. Every daemon started here is stopped by stopBackends() or at exit.
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { startCephS3, type CephS3 } from '../test/helpers/ceph-s3.ts';
import { startPostgres, postgresBin, type Postgres } from '../test/helpers/postgres.ts';
import { request } from './client.ts';
import { startBerth, startDistributionWith, toolVersion, type Server } from './servers.ts';


export interface Rgw extends CephS3 {
  /** Delete every object of `bucket` whose key contains one of `needles` (untimed cleanup). */
  deleteMatching(bucket: string, needles: string[]): Promise<number>;
}

/** Why the S3 sections cannot run here, or undefined when they can. */
export function rgwMissing(): string | undefined {
  const missing = ['radosgw', 'ceph-mon', 'ceph-osd'].filter((t) => !['/usr/bin', '/usr/sbin', '/bin'].some((d) => existsSync(join(d, t))));
  return missing.length ? `not installed: ${missing.join(', ')} (Debian packages radosgw ceph-mon ceph-osd)` : undefined;
}

export async function postgresMissing(): Promise<string | undefined> {
  return (await postgresBin()) === undefined ? 'PostgreSQL is not installed (Debian package postgresql)' : undefined;
}

export async function postgresVersion(): Promise<string> {
  const bin = await postgresBin();
  return bin === undefined ? 'unknown' : toolVersion(join(bin, 'postgres'), ['--version']).replace(/^postgres \(PostgreSQL\) /, '');
}

export function nginxMissing(): string | undefined {
  return existsSync('/usr/sbin/nginx') ? undefined : 'nginx is not installed';
}

/** test/helpers/ceph-s3.ts's RGW (one monitor, one memstore OSD holding up to `memBytes` in RAM), with the bench's cleanup. */
export async function startRgw(memBytes: number): Promise<Rgw> {
  const ceph = await startCephS3({ memBytes });
  const { client } = ceph;
  return {
    ...ceph,
    async deleteMatching(bucket, needles) {
      let deleted = 0;
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
        const keys = (page.Contents ?? []).map((o) => o.Key ?? '').filter((k) => needles.some((n) => k.includes(n)));
        if (keys.length) {
          await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
          deleted += keys.length;
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return deleted;
    },
  };
}

export { startPostgres, type Postgres };

export interface BerthBackend {
  /** S3 bucket on this RGW (else filesystem storage under the node's data directory). */
  s3?: { rgw: Rgw; bucket: string; redirect: boolean };
  /** PostgreSQL connection string (else SQLite in the node's data directory). */
  pgUrl?: string;
}

/** berth's YAML for these backends; access log off, log level warn, as bench/servers.ts runs it. */
function berthYaml(root: string, b: BerthBackend): string {
  const lines = ['version: 0.1', 'log:', '  level: warn', '  accesslog:', '    disabled: true', 'storage:'];
  if (b.s3) {
    lines.push(
      '  s3:',
      `    regionendpoint: ${b.s3.rgw.endpoint}`,
      '    region: us-east-1',
      `    bucket: ${b.s3.bucket}`,
      `    accesskey: ${b.s3.rgw.accessKey}`,
      `    secretkey: ${b.s3.rgw.secretKey}`,
      '    forcepathstyle: true',
      '    checksums: when_required',
      '  redirect:',
      `    disable: ${b.s3.redirect ? 'false' : 'true'}`,
    );
  } else {
    lines.push('  filesystem:', `    rootdirectory: ${root}`);
  }
  if (b.pgUrl) lines.push('database:', '  enabled: true', `  url: ${b.pgUrl}`, '  pool:', '    maxopen: 20');
  else if (b.s3) lines.push('meta:', '  sqlite:', `    path: ${join(root, 'berth.db')}`);
  return lines.join('\n') + '\n';
}

/** A berth node from its build on these backends; `label` names its process and data directory. */
export async function startBerthOn(work: string, label: string, b: BerthBackend): Promise<Server> {
  const dataDir = `${label}-data`;
  const file = join(work, `${label}.yml`);
  writeFileSync(file, berthYaml(join(work, dataDir), b));
  // The bench's default root directory would name a second storage driver beside s3: unset it.
  return startBerth(work, { dataDir, label, env: { REGISTRY_CONFIGURATION_PATH: file, REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: undefined } });
}

/** distribution 2.8.2 on a bucket of this RGW (redirect: blob GETs answer 307 to a presigned URL). */
export async function startDistributionOn(work: string, label: string, rgw: Rgw, bucket: string, redirect: boolean): Promise<Server> {
  return startDistributionWith(work, label, [
    '  s3:',
    `    accesskey: ${rgw.accessKey}`,
    `    secretkey: ${rgw.secretKey}`,
    '    region: us-east-1',
    `    regionendpoint: ${rgw.endpoint}`,
    `    bucket: ${bucket}`,
    '    secure: false',
    '    v4auth: true',
    '    chunksize: 10485760',
    '  redirect:',
    `    disable: ${redirect ? 'false' : 'true'}`,
  ]);
}

/** The status of a GET without following redirects (to check that a blob GET answers 307). */
export async function statusOf(url: URL): Promise<number> {
  return (await request('GET', url, { maxBody: 0 })).status;
}

/** The bucket alone, the S3 rows' ceiling: a single PutObject, a multipart upload in `partSize` parts, a presigned GET URL. */
export const rgwDirect = {
  async put(rgw: Rgw, bucket: string, key: string, body: Readable, size: number): Promise<void> {
    await rgw.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: size }));
  },
  async multipart(rgw: Rgw, bucket: string, key: string, size: number, partSize: number, part: (start: number, end: number) => Readable): Promise<void> {
    const { UploadId } = await rgw.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const parts: { ETag: string | undefined; PartNumber: number }[] = [];
    for (let off = 0, n = 1; off < size; off += partSize, n++) {
      const end = Math.min(off + partSize, size);
      const res = await rgw.client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: n, Body: part(off, end), ContentLength: end - off }));
      parts.push({ ETag: res.ETag, PartNumber: n });
    }
    await rgw.client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
  },
  async presignedGet(rgw: Rgw, bucket: string, key: string): Promise<URL> {
    return new URL(await getSignedUrl(rgw.client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 3600 }));
  },
};
