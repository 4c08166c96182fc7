/** Upload sessions: POST+PUT, chunked PATCH, resume, out-of-order chunks, digest checks, mounts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Client, errorCode, sha256 } from '../helpers/client.ts';
import { useTestRegistry } from '../helpers/inproc.ts';

async function start(c: Client, repo: string): Promise<string> {
  const res = await c.fetch(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  assert.equal(res.status, 202);
  assert.ok(res.headers.get('docker-upload-uuid'));
  assert.equal(res.headers.get('range'), '0-0');
  const location = res.headers.get('location');
  assert.ok(location);
  return location;
}

async function patch(c: Client, location: string, chunk: Buffer, start: number): Promise<Response> {
  return c.fetch(location, {
    method: 'PATCH',
    body: Buffer.from(chunk),
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Range': `${start}-${start + chunk.length - 1}`,
      'Content-Length': String(chunk.length),
    },
  });
}

describe('uploads', () => {
  const t = useTestRegistry();

  it('POST then PUT with the whole body', async () => {
    const location = await start(t.client, 'up/one');
    const body = Buffer.from('post-put body');
    const digest = sha256(body);
    const sep = location.includes('?') ? '&' : '?';
    const res = await t.client.fetch(`${location}${sep}digest=${digest}`, { method: 'PUT', body });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('docker-content-digest'), digest);
    assert.match(res.headers.get('location') ?? '', new RegExp(`/v2/up/one/blobs/${digest}$`));
    assert.equal(await (await t.client.fetch(`/v2/up/one/blobs/${digest}`)).text(), 'post-put body');
  });

  it('chunked PATCHes, status, resume and an empty final PUT', async () => {
    const data = Buffer.alloc(300_000, 7);
    data.write('distinct', 1000);
    let location = await start(t.client, 'up/chunked');
    const first = await patch(t.client, location, data.subarray(0, 100_000), 0);
    assert.equal(first.status, 202);
    assert.equal(first.headers.get('range'), '0-99999');
    location = first.headers.get('location') ?? location;
    const status = await t.client.fetch(location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-99999');
    // A repeated or out-of-order chunk is refused with 416 and the current range.
    const repeat = await patch(t.client, location, data.subarray(0, 100_000), 0);
    assert.equal(repeat.status, 416);
    assert.equal(repeat.headers.get('range'), '0-99999');
    const gap = await patch(t.client, location, data.subarray(200_000), 200_000);
    assert.equal(gap.status, 416);
    const second = await patch(t.client, location, data.subarray(100_000), 100_000);
    assert.equal(second.status, 202);
    assert.equal(second.headers.get('range'), '0-299999');
    const fin = await t.client.fetch(`${location}?digest=${sha256(data)}`, { method: 'PUT' });
    assert.equal(fin.status, 201);
    const back = Buffer.from(await (await t.client.fetch(`/v2/up/chunked/blobs/${sha256(data)}`)).arrayBuffer());
    assert.ok(back.equals(data));
  });

  it('streamed PATCH without Content-Range, then PUT with the last chunk', async () => {
    const location = await start(t.client, 'up/stream');
    const a = Buffer.from('first part, ');
    const b = Buffer.from('final part');
    const r1 = await t.client.fetch(location, { method: 'PATCH', body: a });
    assert.equal(r1.status, 202);
    const all = Buffer.concat([a, b]);
    const r2 = await t.client.fetch(`${r1.headers.get('location')}?digest=${sha256(all)}`, {
      method: 'PUT',
      body: b,
      headers: { 'Content-Range': `${a.length}-${all.length - 1}`, 'Content-Length': String(b.length) },
    });
    assert.equal(r2.status, 201);
    assert.equal(await (await t.client.fetch(`/v2/up/stream/blobs/${sha256(all)}`)).text(), all.toString());
  });

  it('refuses a wrong digest with DIGEST_INVALID and stores nothing', async () => {
    const location = await start(t.client, 'up/bad');
    const body = Buffer.from('real content');
    const wrong = sha256('other content');
    const res = await t.client.fetch(`${location}?digest=${wrong}`, { method: 'PUT', body });
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'DIGEST_INVALID');
    assert.equal((await t.client.fetch(`/v2/up/bad/blobs/${wrong}`, { method: 'HEAD' })).status, 404);
    assert.equal((await t.client.fetch(`/v2/up/bad/blobs/${sha256(body)}`, { method: 'HEAD' })).status, 404);
    assert.equal((await t.client.fetch(location)).status, 404, 'the failed session is gone');
    const mono = await t.client.fetch(`/v2/up/bad/blobs/uploads/?digest=${wrong}`, { method: 'POST', body });
    assert.equal(mono.status, 400);
    assert.equal(await errorCode(mono), 'DIGEST_INVALID');
    if (t.reg.root) {
      const blobs = await fs.readdir(path.join(t.reg.root, 'blobs', 'sha256'), { recursive: true }).catch(() => []);
      assert.ok(!blobs.some((f) => String(f).includes(wrong.slice(7))));
    }
  });

  it('PUT without a digest is DIGEST_INVALID', async () => {
    const location = await start(t.client, 'up/nodigest');
    const res = await t.client.fetch(location, { method: 'PUT', body: 'x' });
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'DIGEST_INVALID');
  });

  it('cancels an upload with DELETE', async () => {
    const location = await start(t.client, 'up/cancel');
    assert.equal((await t.client.fetch(location, { method: 'DELETE' })).status, 204);
    const gone = await t.client.fetch(location);
    assert.equal(gone.status, 404);
    assert.equal(await errorCode(gone), 'BLOB_UPLOAD_UNKNOWN');
  });

  it('refuses sessions of another repository and unknown ids', async () => {
    const location = await start(t.client, 'up/owner');
    const id = location.split('/').pop() ?? '';
    assert.equal((await t.client.fetch(`/v2/up/other/blobs/uploads/${id}`)).status, 404);
    const res = await t.client.fetch('/v2/up/owner/blobs/uploads/not-a-uuid');
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'BLOB_UPLOAD_UNKNOWN');
  });

  it('mounts a blob from another repository, and automatically without from', async () => {
    const d = await t.client.pushBlob('src/repo', 'mountable');
    const res = await t.client.fetch(`/v2/dst/repo/blobs/uploads/?mount=${d.digest}&from=src/repo`, { method: 'POST' });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('docker-content-digest'), d.digest);
    assert.equal(await (await t.client.fetch(`/v2/dst/repo/blobs/${d.digest}`)).text(), 'mountable');
    const auto = await t.client.fetch(`/v2/auto/repo/blobs/uploads/?mount=${d.digest}`, { method: 'POST' });
    assert.equal(auto.status, 201);
    // Not mountable: the blob is not in `from`; a normal upload session starts instead.
    const miss = await t.client.fetch(`/v2/dst/other/blobs/uploads/?mount=${sha256('absent')}&from=src/repo`, { method: 'POST' });
    assert.equal(miss.status, 202);
    assert.ok(miss.headers.get('docker-upload-uuid'));
  });

  it('checks Content-Range against Content-Length before writing', async () => {
    const location = await start(t.client, 'up/range');
    const res = await t.client.fetch(location, {
      method: 'PATCH',
      body: 'abc',
      headers: { 'Content-Range': '0-9', 'Content-Length': '3' },
    });
    assert.equal(res.status, 416);
    const status = await t.client.fetch(location);
    assert.equal(status.headers.get('range'), '0-0');
  });

  it('purges abandoned sessions and orphaned session files', async () => {
    const location = await start(t.client, 'up/purge');
    await t.client.fetch(location, { method: 'PATCH', body: 'abandoned bytes' });
    const id = location.split('/').pop() ?? '';
    const root = t.reg.root ?? '';
    const orphan = path.join(root, 'uploads', '00000000-0000-4000-8000-000000000000');
    await fs.writeFile(orphan, 'left by a crash');
    const uploads = t.reg.running.registry.uploads;
    assert.deepEqual(await uploads.purge(Date.now() - 60_000), [], 'nothing is that old');
    const dry = await uploads.purge(Date.now() + 1000, true);
    assert.ok(dry.includes(id));
    assert.equal((await t.client.fetch(location)).status, 204, 'a dry run removes nothing');
    const removed = await uploads.purge(Date.now() + 1000);
    assert.ok(removed.includes(id) && removed.includes(path.basename(orphan)));
    assert.equal((await t.client.fetch(location)).status, 404);
    await assert.rejects(fs.stat(path.join(root, 'uploads', id)));
    await assert.rejects(fs.stat(orphan));
  });

  it('does not mount, without from, a blob no repository links any more', async () => {
    const d = await t.client.pushBlob('gone/src', 'deleted everywhere');
    assert.equal((await t.client.fetch(`/v2/gone/src/blobs/${d.digest}`, { method: 'DELETE' })).status, 202);
    const res = await t.client.fetch(`/v2/gone/dst/blobs/uploads/?mount=${d.digest}`, { method: 'POST' });
    assert.equal(res.status, 202, 'a normal upload starts instead');
  });

  it('replaces a torn file at a blob address with the verified upload (large and small paths)', async () => {
    const root = t.reg.root ?? '';
    const big = Buffer.alloc(300 * 1024, 5);
    const small = Buffer.from('small and torn');
    for (const [body, how] of [[big, 'patch'], [small, 'monolithic']] as const) {
      const digest = sha256(body);
      const file = path.join(root, 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7));
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, body.subarray(0, 10)); // what a power cut could leave, never linked
      if (how === 'patch') {
        const location = await start(t.client, 'torn/app');
        assert.equal((await t.client.fetch(location, { method: 'PATCH', body: Buffer.from(body) })).status, 202);
        assert.equal((await t.client.fetch(`${location}?digest=${digest}`, { method: 'PUT' })).status, 201);
      } else {
        await t.client.pushBlob('torn/app', body);
      }
      const back = Buffer.from(await (await t.client.fetch(`/v2/torn/app/blobs/${digest}`)).arrayBuffer());
      assert.ok(back.equals(body), how);
    }
  });
});
