/** storage.s3: distribution's keys and defaults, parsed into the S3 driver's settings. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { s3Schema } from './s3-schema.ts';

const MiB = 1024 * 1024;

describe('storage.s3 schema', () => {
  it("fills distribution's defaults", () => {
    assert.deepEqual(s3Schema.parse({ region: 'eu-west-1', bucket: 'images' }), {
      region: 'eu-west-1',
      bucket: 'images',
      rootdirectory: '',
      forcepathstyle: false,
      secure: true,
      encrypt: false,
      chunksize: 10 * MiB,
      multipartcopychunksize: 32 * MiB,
      multipartcopythresholdsize: 32 * MiB,
      storageclass: 'STANDARD',
      checksums: 'when_supported',
      loglevel: 'off',
    });
  });

  it('takes an S3-compatible server with static keys and its checksum switch', () => {
    const s = s3Schema.parse({
      region: 'us-east-1',
      bucket: 'b',
      regionendpoint: 'http://127.0.0.1:7480',
      accesskey: 'a',
      secretkey: 's',
      forcepathstyle: true,
      checksums: 'when_required',
      loglevel: 'debugwithhttpbody',
    });
    assert.equal(s.checksums, 'when_required');
    assert.equal(s.loglevel, 'debug');
    assert.equal(s.accesskey, 'a');
  });

  it('refuses parts below 5 MiB, a key without its secret, and a missing bucket or region', () => {
    const problems = (value: unknown): string[] => {
      const result = s3Schema.safeParse(value);
      return result.success ? [] : result.error.issues.map((i) => i.path.join('.'));
    };
    assert.deepEqual(problems({ region: 'r', bucket: 'b', chunksize: 1024 }), ['chunksize']);
    assert.deepEqual(problems({ region: 'r', bucket: 'b', accesskey: 'a' }), ['secretkey']);
    assert.deepEqual(problems({}).sort(), ['bucket', 'region']);
    assert.deepEqual(problems({ region: 'r', bucket: 'b', checksums: 'never' }), ['checksums']);
  });
});
