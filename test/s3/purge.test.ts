/**
 * Abandoned multipart uploads on a real S3 server (Ceph RGW): what a berth node killed mid-PATCH
 * leaves in the bucket, aborted by the upload purger through StorageDriver.purgeIncomplete
 * (S3Driver: ListMultipartUploads by pages, AbortMultipartUpload), only under the driver's root
 * directory and only those started before the purge age; a dry run aborts nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand, type MultipartUpload } from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { purgeUploads } from '../../src/registry/upload-purger.ts';
import { withPathValidation } from '../../src/storage/base.ts';
import { MiB, createClient, type S3Settings } from '../../src/storage/drivers/s3-client.ts';
import { S3Driver } from '../../src/storage/drivers/s3.ts';
import { cephTools, startCephS3, type CephS3 } from '../helpers/ceph-s3.ts';

const tools = cephTools();
const BUCKET = 'berth-purge';
let ceph: CephS3 | undefined;

function cephS3(): CephS3 {
  if (ceph === undefined) throw new Error('Ceph RGW is not running');
  return ceph;
}

function settings(rootdirectory: string): S3Settings {
  const c = cephS3();
  return {
    bucket: BUCKET,
    region: 'us-east-1',
    regionendpoint: c.endpoint,
    accesskey: c.accessKey,
    secretkey: c.secretKey,
    rootdirectory,
    forcepathstyle: true,
    secure: false,
    encrypt: false,
    chunksize: 5 * MiB,
    multipartcopychunksize: 5 * MiB,
    multipartcopythresholdsize: 8 * MiB,
    storageclass: 'STANDARD',
    checksums: 'when_required',
    loglevel: 'off',
  };
}

async function uploadsUnder(prefix: string): Promise<MultipartUpload[]> {
  const out = await cephS3().client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: prefix }));
  return out.Uploads ?? [];
}

async function startUpload(key: string): Promise<void> {
  await cephS3().client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
}

const log = pino({ level: 'silent' });
const noSessions = { purge: async () => [] };

describe('purging incomplete multipart uploads on Ceph RGW', { skip: tools.skip }, () => {
  before(async () => {
    tools.check();
    ceph = await startCephS3();
    await ceph.createBucket(BUCKET);
  });
  after(async () => {
    await ceph?.stop();
  });

  it('aborts what a writer killed mid-upload left, through the purger and the path-validating wrapper', async () => {
    const root = `node/${randomUUID()}`;
    const s = settings(root);
    const driver = withPathValidation(new S3Driver(createClient(s), s));
    const writer = await driver.writer('/docker/registry/v2/uploads/abc/data', false);
    await writer.write(randomBytes(5 * MiB + 7)); // one part uploaded; then the node "dies": no close, no cancel
    assert.equal((await uploadsUnder(`${root}/`)).length, 1);

    const dry = await purgeUploads(noSessions, driver, { age: 0, dryrun: true }, log, Date.now() + 1000);
    assert.deepEqual(dry, { sessions: [], incomplete: 1 });
    assert.equal((await uploadsUnder(`${root}/`)).length, 1, 'a dry run aborts nothing');

    const done = await purgeUploads(noSessions, driver, { age: 0, dryrun: false }, log, Date.now() + 1000);
    assert.deepEqual(done, { sessions: [], incomplete: 1 });
    assert.deepEqual(await uploadsUnder(`${root}/`), []);
  });

  it('only under its root directory, only those started before the date, across listing pages', async () => {
    const root = `paged/${randomUUID()}`;
    const s = settings(root);
    const driver = new S3Driver(createClient(s), s, 2); // two uploads per ListMultipartUploads page
    const keys = ['a', 'b/c', 'b/d', 'e', 'f/g/h'].map((k) => `${root}/${k}`);
    for (const key of keys) await startUpload(key);
    const neighbour = `${root}-other/x`; // shares the root's text but is not under it
    await startUpload(neighbour);

    const started = (await uploadsUnder(`${root}/`)).map((u) => u.Initiated?.getTime() ?? Infinity);
    assert.equal(started.length, keys.length);
    assert.equal(await driver.purgeIncomplete(new Date(Math.min(...started))), 0, 'none started before the first');
    assert.equal(await driver.purgeIncomplete(new Date(Math.max(...started) + 1)), keys.length);
    assert.deepEqual(await uploadsUnder(`${root}/`), []);
    assert.equal((await uploadsUnder(neighbour)).length, 1, 'the neighbouring prefix is untouched');
    assert.equal(await new S3Driver(createClient(settings(`${root}-other`)), settings(`${root}-other`)).purgeIncomplete(new Date(Date.now() + 1000)), 1);
  });

  it('a purger run whose session purge fails still purges the driver, and the reverse', async () => {
    const root = `failing/${randomUUID()}`;
    const s = settings(root);
    const driver = new S3Driver(createClient(s), s);
    await startUpload(`${root}/x`);
    const failing = { purge: async (): Promise<string[]> => Promise.reject(new Error('meta store down')) };
    assert.deepEqual(await purgeUploads(failing, driver, { age: 0, dryrun: false }, log, Date.now() + 1000), { sessions: [], incomplete: 1 });
    const broken = { purgeIncomplete: async (): Promise<number> => Promise.reject(new Error('bucket gone')) };
    assert.deepEqual(await purgeUploads({ purge: async () => ['s1'] }, broken, { age: 0, dryrun: false }, log), { sessions: ['s1'], incomplete: 0 });
  });
});
