/** The error registry agrees with the OCI Distribution Spec 1.1 error-code table. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, OCI_SPEC_CODES, errorBody } from './errcodes.ts';
import { mapError, HttpError } from './errors.ts';
import { BlobUnknownError, ManifestBlobUnknownError, NameInvalidError, UnsupportedError } from '../registry/errors.ts';

/** The spec's table (code-1 .. code-14) with the status distribution and the conformance suite expect. */
const SPEC_TABLE: [string, number][] = [
  ['BLOB_UNKNOWN', 404],
  ['BLOB_UPLOAD_INVALID', 400],
  ['BLOB_UPLOAD_UNKNOWN', 404],
  ['DIGEST_INVALID', 400],
  ['MANIFEST_BLOB_UNKNOWN', 400],
  ['MANIFEST_INVALID', 400],
  ['MANIFEST_UNKNOWN', 404],
  ['NAME_INVALID', 400],
  ['NAME_UNKNOWN', 404],
  ['SIZE_INVALID', 400],
  ['UNAUTHORIZED', 401],
  ['DENIED', 403],
  ['UNSUPPORTED', 405],
  ['TOOMANYREQUESTS', 429],
];

describe('error registry', () => {
  it('declares every code of the spec table, in order, with its status', () => {
    assert.deepEqual(OCI_SPEC_CODES, SPEC_TABLE.map(([code]) => code));
    for (const [code, status] of SPEC_TABLE) {
      const d = ErrorCodes[code as keyof typeof ErrorCodes];
      assert.ok(d, code);
      assert.equal(d.code, code);
      assert.equal(d.status, status, code);
      assert.ok(d.message.length > 0);
    }
  });

  it('keys every descriptor by its own code', () => {
    for (const [key, d] of Object.entries(ErrorCodes)) assert.equal(d.code, key);
  });

  it('serializes the spec envelope', () => {
    assert.deepEqual(errorBody('BLOB_UNKNOWN', undefined, { digest: 'sha256:x' }), {
      errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry', detail: { digest: 'sha256:x' } }],
    });
  });

  it('maps domain errors to codes, and anything else to a 500 UNKNOWN', () => {
    assert.equal(mapError(new BlobUnknownError('sha256:x')).status, 404);
    assert.equal(mapError(new ManifestBlobUnknownError('sha256:x', 'blob')).code, 'MANIFEST_BLOB_UNKNOWN');
    assert.equal(mapError(new NameInvalidError('X')).code, 'NAME_INVALID');
    assert.equal(mapError(new UnsupportedError('off')).status, 405);
    assert.equal(mapError(new HttpError('RANGE_INVALID')).status, 416);
    const unknown = mapError(new Error('boom'));
    assert.equal(unknown.code, 'UNKNOWN');
    assert.equal(unknown.status, 500);
    assert.ok(unknown.internal);
  });
});
