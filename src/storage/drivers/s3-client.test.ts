/** The S3 driver's own logic without a server: keys, copy ranges, client and write settings. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KeySpace, MIN_PART, MiB, clientConfig, copySource, writeParams, type S3Settings } from './s3-client.ts';
import { copyRanges } from './s3-copy.ts';
import { s3Schema } from '../../config/s3-schema.ts';

// distribution's defaults, as the schema fills them
const base: S3Settings = s3Schema.parse({ bucket: 'b', region: 'eu-west-1' });

describe('S3 driver logic', () => {
  it('maps paths to keys under the root directory and back', () => {
    const root = new KeySpace('/registry/v2/');
    assert.equal(root.key('/blobs/sha256/ab/abcd'), 'registry/v2/blobs/sha256/ab/abcd');
    assert.equal(root.under('/'), 'registry/v2/');
    assert.equal(root.under('/blobs'), 'registry/v2/blobs/');
    assert.equal(root.path('registry/v2/blobs/x'), '/blobs/x');
    const bare = new KeySpace('');
    assert.equal(bare.key('/a/b'), 'a/b');
    assert.equal(bare.under('/'), '');
    assert.equal(copySource('bkt', 'a b/c'), 'bkt/a%20b/c');
  });

  it('splits copies into parts of at least 5 MiB, merging a short tail into the part before', () => {
    assert.deepEqual(copyRanges(12 * MiB, 5 * MiB), [
      [0, 5 * MiB - 1],
      [5 * MiB, 12 * MiB - 1],
    ]);
    assert.deepEqual(copyRanges(15 * MiB, 5 * MiB).length, 3);
    assert.deepEqual(copyRanges(3 * MiB, 5 * MiB), [[0, 3 * MiB - 1]]);
    assert.deepEqual(copyRanges(10 * MiB, 1), [
      [0, MIN_PART - 1],
      [MIN_PART, 10 * MiB - 1],
    ], 'a part size below the minimum is raised to it');
    for (const size of [5 * MiB, 33 * MiB + 7, 64 * MiB + 1]) {
      const ranges = copyRanges(size, 32 * MiB);
      assert.equal(ranges[0]?.[0], 0);
      assert.equal(ranges.at(-1)?.[1], size - 1);
      for (const [i, [start, end]] of ranges.entries()) {
        if (i > 0) assert.equal(start, (ranges[i - 1]?.[1] ?? 0) + 1, 'contiguous');
        if (i < ranges.length - 1) assert.ok(end - start + 1 >= MIN_PART);
      }
    }
  });

  it('builds the client: endpoint scheme from secure, static keys or the SDK chain, the checksum switch', () => {
    const aws = clientConfig(base);
    assert.equal(aws.endpoint, undefined);
    assert.equal(aws.credentials, undefined, 'no keys: the SDK credential chain');
    assert.equal(aws.requestChecksumCalculation, 'WHEN_SUPPORTED');
    const rgw = clientConfig({ ...base, regionendpoint: 'rgw.local:7480', secure: false, accesskey: 'a', secretkey: 's', forcepathstyle: true, checksums: 'when_required' });
    assert.equal(rgw.endpoint, 'http://rgw.local:7480');
    assert.deepEqual(rgw.credentials, { accessKeyId: 'a', secretAccessKey: 's' });
    assert.equal(rgw.forcePathStyle, true);
    assert.equal(rgw.requestChecksumCalculation, 'WHEN_REQUIRED');
    assert.equal(rgw.responseChecksumValidation, 'WHEN_REQUIRED');
    assert.equal(clientConfig({ ...base, regionendpoint: 'https://minio:9000', secure: false }).endpoint, 'https://minio:9000');
  });

  it('sends storage class and server-side encryption on every write', () => {
    assert.deepEqual(writeParams(base), { StorageClass: 'STANDARD' });
    assert.deepEqual(writeParams({ ...base, storageclass: 'NONE', encrypt: true }), { ServerSideEncryption: 'AES256' });
    assert.deepEqual(writeParams({ ...base, storageclass: 'REDUCED_REDUNDANCY', encrypt: true, keyid: 'k' }), {
      StorageClass: 'REDUCED_REDUNDANCY',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'k',
    });
  });
});
