/**
 * Every kind of error the registry API (/v2/) answers, over HTTP: each carries a code of the OCI
 * Distribution Spec's table ("The code field MUST be one of the following"), with the status the
 * spec asks for. berth's own API keeps its codes. src/http/errcodes.test.ts proves the same for
 * every error class and code; this checks what actually goes over the wire.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useTestRegistry } from '../helpers/inproc.ts';
import { OCI_MANIFEST, sha256 } from '../helpers/client.ts';
import { OCI_SPEC_CODES } from '../../src/http/errcodes.ts';

const SPEC = new Set<string>(OCI_SPEC_CODES);
const ABSENT = sha256('absent');

interface Case {
  what: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
  status: number;
  code: string;
}

describe('errors on the registry API', () => {
  const t = useTestRegistry({ storage: 'inmemory' });

  interface Answer {
    status: number;
    headers: Headers;
    code?: string;
    detail?: unknown;
  }

  async function answer(c: Omit<Case, 'what' | 'status' | 'code'>): Promise<Answer> {
    const res = await t.client.fetch(c.path, { method: c.method ?? 'GET', headers: c.headers, body: c.body });
    const text = await res.text();
    const error = text === '' ? undefined : (JSON.parse(text) as { errors: { code: string; detail?: unknown }[] }).errors[0];
    return { status: res.status, headers: res.headers, code: error?.code, detail: error?.detail };
  }

  async function check(c: Case): Promise<Answer> {
    const got = await answer(c);
    assert.deepEqual([got.status, got.code], [c.status, c.code], c.what);
    assert.ok(SPEC.has(c.code), `${c.what}: ${c.code} is not in the spec's table`);
    return got;
  }

  /** An upload session's path (relative), for chunk errors. */
  async function startUpload(repo: string): Promise<string> {
    const res = await t.client.fetch(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    assert.equal(res.status, 202);
    return new URL(res.headers.get('location') ?? '', t.reg.url).pathname;
  }

  it('names, blobs, uploads, listings and routes', async () => {
    const blob = await t.client.pushBlob('e/app', 'ten bytes!');
    const cases: Case[] = [
      { what: 'bad name', path: '/v2/Bad/tags/list', status: 400, code: 'NAME_INVALID' },
      { what: 'unknown repository', path: '/v2/e/none/tags/list', status: 404, code: 'NAME_UNKNOWN' },
      { what: 'bad n', path: '/v2/e/app/tags/list?n=abc', status: 400, code: 'UNSUPPORTED' },
      { what: 'unknown blob', path: `/v2/e/app/blobs/${ABSENT}`, status: 404, code: 'BLOB_UNKNOWN' },
      { what: 'bad digest', path: '/v2/e/app/blobs/sha256:short', status: 400, code: 'DIGEST_INVALID' },
      { what: 'bad referrers digest', path: '/v2/e/app/referrers/sha256:short', status: 400, code: 'DIGEST_INVALID' },
      { what: 'range past the end', path: `/v2/e/app/blobs/${blob.digest}`, headers: { Range: 'bytes=100-' }, status: 416, code: 'SIZE_INVALID' },
      { what: 'unknown upload', path: '/v2/e/app/blobs/uploads/nope', status: 404, code: 'BLOB_UPLOAD_UNKNOWN' },
      { what: 'wrong method', method: 'DELETE', path: '/v2/_catalog', status: 405, code: 'UNSUPPORTED' },
      { what: 'no such route', path: '/v2/e/app/nothing', status: 404, code: 'UNSUPPORTED' },
    ];
    for (const c of cases) await check(c);
  });

  it('chunks out of order or with a malformed Content-Range: 416, with the upload so far', async () => {
    const upload = await startUpload('e/app');
    const late = await check({
      what: 'chunk out of order',
      method: 'PATCH',
      path: upload,
      headers: { 'Content-Range': '5-9', 'Content-Type': 'application/octet-stream' },
      body: 'abcde',
      status: 416,
      code: 'SIZE_INVALID',
    });
    assert.equal(late.headers.get('range'), '0-0');
    const headers = { 'Content-Range': 'five-nine', 'Content-Type': 'application/octet-stream' };
    await check({ what: 'malformed Content-Range', method: 'PATCH', path: upload, headers, body: 'abcde', status: 416, code: 'SIZE_INVALID' });
  });

  it('manifests: invalid, unknown blobs, too large, too deep, malformed references', async () => {
    const put = { method: 'PUT', headers: { 'Content-Type': OCI_MANIFEST } };
    const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: ABSENT, size: 2 };
    const unknownBlob = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] });
    const cases: Case[] = [
      { what: 'not JSON', ...put, path: '/v2/e/app/manifests/v1', body: '{', status: 400, code: 'MANIFEST_INVALID' },
      { what: 'unknown config', ...put, path: '/v2/e/app/manifests/v1', body: unknownBlob, status: 400, code: 'MANIFEST_BLOB_UNKNOWN' },
      { what: 'too deep', ...put, path: '/v2/e/app/manifests/v1', body: `${'['.repeat(65)}${']'.repeat(65)}`, status: 400, code: 'MANIFEST_INVALID' },
      { what: 'digest mismatch', ...put, path: `/v2/e/app/manifests/${ABSENT}`, body: unknownBlob, status: 400, code: 'DIGEST_INVALID' },
      { what: 'PUT to a malformed reference', ...put, path: '/v2/e/app/manifests/.INVALID_MANIFEST_NAME', body: unknownBlob, status: 400, code: 'MANIFEST_INVALID' },
      { what: 'unknown tag', path: '/v2/e/app/manifests/nope', status: 404, code: 'MANIFEST_UNKNOWN' },
      { what: 'GET of a malformed reference', path: '/v2/e/app/manifests/.INVALID_MANIFEST_NAME', status: 404, code: 'MANIFEST_UNKNOWN' },
      { what: 'GET of an unsupported digest', path: `/v2/e/app/manifests/md5:${'a'.repeat(32)}`, status: 404, code: 'MANIFEST_UNKNOWN' },
      { what: 'DELETE of a malformed reference', method: 'DELETE', path: '/v2/e/app/manifests/-x-', status: 404, code: 'MANIFEST_UNKNOWN' },
    ];
    for (const c of cases) await check(c);
    const head = await answer({ method: 'HEAD', path: '/v2/e/app/manifests/.INVALID_MANIFEST_NAME' });
    assert.equal(head.status, 404);

    const body = new Uint8Array(4 * 1024 * 1024 + 1).fill(32);
    const big = await check({ what: 'too large', ...put, path: '/v2/e/app/manifests/v1', body, status: 413, code: 'MANIFEST_INVALID' });
    assert.deepEqual(big.detail, { limit: 4 * 1024 * 1024 });
  });

  it("keeps berth's own codes outside /v2/", async () => {
    assert.equal((await answer({ path: '/v3/' })).code, 'NOT_FOUND');
    assert.equal((await answer({ path: '/api/v1/repositories/e/app/_tags?sort=bogus' })).code, 'REQUEST_INVALID');
    assert.equal((await answer({ path: '/api/v1/nothing' })).code, 'NOT_FOUND');
  });
});
