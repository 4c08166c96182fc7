/** Blob pull, ranges, deletes and monolithic pushes over real HTTP. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { errorCode, sha256 } from '../helpers/client.ts';
import { useTestRegistry } from '../helpers/inproc.ts';

describe('blobs', () => {
  const t = useTestRegistry();

  it('answers GET /v2/ with the API version header', async () => {
    const res = await t.client.fetch('/v2/');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
    assert.deepEqual(await res.json(), {});
  });

  it('pushes monolithically and serves HEAD and GET with digest and length', async () => {
    const d = await t.client.pushBlob('alice/app', 'hello blob');
    const head = await t.client.fetch(`/v2/alice/app/blobs/${d.digest}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '10');
    assert.equal(head.headers.get('docker-content-digest'), d.digest);
    const get = await t.client.fetch(`/v2/alice/app/blobs/${d.digest}`);
    assert.equal(get.status, 200);
    assert.equal(await get.text(), 'hello blob');
  });

  it('serves byte ranges with 206 and refuses unsatisfiable ones with 416', async () => {
    const d = await t.client.pushBlob('alice/app', '0123456789');
    const part = await t.client.fetch(`/v2/alice/app/blobs/${d.digest}`, { headers: { Range: 'bytes=2-5' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), 'bytes 2-5/10');
    assert.equal(await part.text(), '2345');
    const suffix = await t.client.fetch(`/v2/alice/app/blobs/${d.digest}`, { headers: { Range: 'bytes=-3' } });
    assert.equal(await suffix.text(), '789');
    const open = await t.client.fetch(`/v2/alice/app/blobs/${d.digest}`, { headers: { Range: 'bytes=7-' } });
    assert.equal(await open.text(), '789');
    const bad = await t.client.fetch(`/v2/alice/app/blobs/${d.digest}`, { headers: { Range: 'bytes=20-30' } });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers.get('content-range'), 'bytes */10');
  });

  it('does not serve a blob from a repository it was not pushed or mounted to', async () => {
    const d = await t.client.pushBlob('alice/private', 'only alice');
    const res = await t.client.fetch(`/v2/bob/app/blobs/${d.digest}`);
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'BLOB_UNKNOWN');
  });

  it('answers unknown blobs with BLOB_UNKNOWN and bad digests with DIGEST_INVALID', async () => {
    const unknown = await t.client.fetch(`/v2/alice/app/blobs/${sha256('nope')}`);
    assert.equal(unknown.status, 404);
    assert.equal(await errorCode(unknown), 'BLOB_UNKNOWN');
    const bad = await t.client.fetch('/v2/alice/app/blobs/sha256:xyz');
    assert.equal(bad.status, 400);
    assert.equal(await errorCode(bad), 'DIGEST_INVALID');
    const algo = await t.client.fetch(`/v2/alice/app/blobs/md5:${'a'.repeat(32)}`);
    assert.equal(algo.status, 400);
  });

  it('accepts sha512 digests', async () => {
    const body = Buffer.from('sha512 content');
    const digest = `sha512:${createHash('sha512').update(body).digest('hex')}`;
    const res = await t.client.fetch(`/v2/alice/app/blobs/uploads/?digest=${digest}`, { method: 'POST', body });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('docker-content-digest'), digest);
    assert.equal(await (await t.client.fetch(`/v2/alice/app/blobs/${digest}`)).text(), 'sha512 content');
  });

  it('deletes a blob from a repository', async () => {
    const d = await t.client.pushBlob('alice/del', 'to delete');
    const del = await t.client.fetch(`/v2/alice/del/blobs/${d.digest}`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    assert.equal((await t.client.fetch(`/v2/alice/del/blobs/${d.digest}`, { method: 'HEAD' })).status, 404);
    const again = await t.client.fetch(`/v2/alice/del/blobs/${d.digest}`, { method: 'DELETE' });
    assert.equal(again.status, 404);
  });

  it('rejects invalid repository names with NAME_INVALID', async () => {
    for (const name of ['Alice/app', 'alice//app', 'alice/-app', '_x']) {
      const res = await t.client.fetch(`/v2/${name}/blobs/${sha256('x')}`);
      assert.equal(res.status, 400, name);
      assert.equal(await errorCode(res), 'NAME_INVALID', name);
    }
  });

  it('accepts multi-segment names', async () => {
    const d = await t.client.pushBlob('a/b/c/d', 'deep');
    assert.equal((await t.client.fetch(`/v2/a/b/c/d/blobs/${d.digest}`, { method: 'HEAD' })).status, 200);
  });

  it('answers unknown routes and methods with the error envelope (spec codes under /v2/)', async () => {
    const nf = await t.client.fetch('/v3/');
    assert.equal(nf.status, 404);
    assert.equal(await errorCode(nf), 'NOT_FOUND');
    const m = await t.client.fetch('/v2/_catalog', { method: 'DELETE' });
    assert.equal(m.status, 405);
    assert.equal(await errorCode(m), 'UNSUPPORTED');
  });
});
