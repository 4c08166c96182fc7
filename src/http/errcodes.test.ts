/**
 * The error registry agrees with the OCI Distribution Spec 1.1 error-code table, and every error
 * berth can raise is sent on the registry API (/v2/) with one of the spec's codes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, OCI_SPEC_CODES, errorBody, type ErrorCode } from './errcodes.ts';
import { apiOf, mapError, HttpError, type MappedError } from './errors.ts';
import * as registryErrors from '../registry/errors.ts';
import * as authErrors from '../auth/errors.ts';
import { InvalidOffsetError } from '../storage/driver.ts';

const { BlobUnknownError, ManifestBlobUnknownError, ManifestTooLargeError, NameInvalidError, RegistryError, UnsupportedError } = registryErrors;
const { AccountConflictError, AuthError } = authErrors;

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
const SPEC_CODES = new Set(SPEC_TABLE.map(([code]) => code));

/** Every concrete error class of the registry and auth domains, made with placeholder arguments. */
function everyDomainError(): Error[] {
  const errors: Error[] = [];
  for (const value of [...Object.values(registryErrors), ...Object.values(authErrors)]) {
    if (typeof value !== 'function' || !(value.prototype instanceof RegistryError || value.prototype instanceof AuthError)) continue;
    const make = value as unknown as new (...args: unknown[]) => Error;
    errors.push(new make('placeholder', 'placeholder'));
  }
  return errors;
}

/** What the registry API may send: a code of the spec's table with a 4XX status, or a server error (5XX). */
function assertRegistryAnswer(mapped: MappedError, what: string): void {
  if (mapped.status >= 500) {
    assert.ok(['UNKNOWN', 'UNAVAILABLE'].includes(mapped.code), `${what}: ${mapped.code}`);
    return;
  }
  assert.ok(mapped.status >= 400, `${what}: status ${mapped.status}`);
  assert.ok(SPEC_CODES.has(mapped.code), `${what} is sent on /v2/ as ${mapped.code}, which is not in the spec's table`);
  assert.ok(SPEC_CODES.has(errorBody(mapped.code).errors[0]?.code ?? ''), what);
}

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
    assert.equal(mapError(new BlobUnknownError('sha256:x'), 'registry').status, 404);
    assert.equal(mapError(new ManifestBlobUnknownError('sha256:x', 'blob'), 'registry').code, 'MANIFEST_BLOB_UNKNOWN');
    assert.equal(mapError(new NameInvalidError('X'), 'registry').code, 'NAME_INVALID');
    assert.equal(mapError(new UnsupportedError('off'), 'registry').status, 405);
    assert.equal(mapError(new HttpError('RANGE_INVALID'), 'berth').status, 416);
    for (const api of ['registry', 'berth'] as const) {
      const unknown = mapError(new Error('boom'), api);
      assert.equal(unknown.code, 'UNKNOWN');
      assert.equal(unknown.status, 500);
      assert.ok(unknown.internal);
    }
  });
});

describe('the registry API sends only the spec codes', () => {
  it('gives every domain error a code (none falls through to a 500), a spec code on /v2/', () => {
    const errors = everyDomainError();
    assert.ok(errors.length >= 20, `found ${errors.length} error classes`);
    for (const err of errors) {
      const mapped = mapError(err, 'registry');
      assert.equal(mapped.internal, false, `${err.constructor.name} has no code in http/errors.ts`);
      assertRegistryAnswer(mapped, err.constructor.name);
    }
  });

  it('sends every code the HTTP layer raises as a spec code on /v2/', () => {
    for (const code of Object.keys(ErrorCodes) as ErrorCode[]) assertRegistryAnswer(mapError(new HttpError(code), 'registry'), code);
    assertRegistryAnswer(mapError(new InvalidOffsetError('/blobs/x', 9), 'registry'), 'InvalidOffsetError');
  });

  it('keeps what the spec asks of a manifest over the limit: 413 with MANIFEST_INVALID and the limit', () => {
    const mapped = mapError(new ManifestTooLargeError(4 * 1024 * 1024), 'registry');
    assert.deepEqual([mapped.status, mapped.code, mapped.detail], [413, 'MANIFEST_INVALID', { limit: 4 * 1024 * 1024 }]);
    assert.deepEqual(
      (['METHOD_UNKNOWN', 'NOT_FOUND', 'RANGE_INVALID'] as const).map((c) => {
        const m = mapError(new HttpError(c, 'why', undefined, { Allow: 'GET' }), 'registry');
        return [m.status, m.code, m.message, m.headers];
      }),
      [
        [405, 'UNSUPPORTED', 'why', { Allow: 'GET' }],
        [404, 'UNSUPPORTED', 'why', { Allow: 'GET' }],
        [416, 'SIZE_INVALID', 'why', { Allow: 'GET' }],
      ],
    );
  });

  it("leaves berth's own API its codes", () => {
    assert.equal(mapError(new AccountConflictError('taken'), 'berth').code, 'CONFLICT');
    assert.equal(mapError(new HttpError('NOT_FOUND'), 'berth').code, 'NOT_FOUND');
    assert.equal(mapError(new ManifestTooLargeError(1), 'berth').code, 'SIZE_EXCEEDED');
  });

  it('tells the APIs apart by path, under http.prefix too', () => {
    const cases: [string, string, 'registry' | 'berth'][] = [
      ['/v2/', '', 'registry'],
      ['/v2', '', 'registry'],
      ['/v2/a/b/manifests/.x?n=1', '', 'registry'],
      ['/v2x', '', 'berth'],
      ['/v3/', '', 'berth'],
      ['/api/v1/repositories/a/v2/b/_tags', '', 'berth'],
      ['/auth/token?scope=repository:v2:pull', '', 'berth'],
      ['/reg/v2/a/tags/list', '/reg', 'registry'],
      ['/v2/a/tags/list', '/reg', 'berth'],
      ['/reg/api/v1/user', '/reg', 'berth'],
    ];
    for (const [url, prefix, api] of cases) assert.equal(apiOf(url, prefix), api, `${prefix} ${url}`);
  });
});
