/**
 * A push that meets a full disk gets a clear error at once. Before, the upload's failed write
 * ended the loop reading the request body, which destroyed the request: the error handler took
 * the request for one the client had aborted and answered nothing, and the client waited until
 * its own timeout (seen in the bench: a PATCH hung for 5 minutes on ENOSPC).
 *
 * The full disk is injected into the storage driver's writers (ENOSPC after 1 MiB of an upload),
 * the way a real ext4 answers a write when it has no blocks left.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FileWriter, StorageDriver } from '../../src/storage/driver.ts';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';

const MiB = 1024 * 1024;

/** Make `driver`'s upload writers fail with ENOSPC once `limit` bytes were written, while `full()` says so. */
function fillUp(driver: StorageDriver, limit: number, full: () => boolean): void {
  const writer = driver.writer.bind(driver);
  driver.writer = async (path, append, opts) => {
    const inner: FileWriter = await writer(path, append, opts);
    if (!path.includes('uploads') || !full()) return inner;
    let written = 0;
    return {
      get size() {
        return inner.size;
      },
      async write(chunk) {
        written += chunk.length;
        if (written > limit) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 });
        return inner.write(chunk);
      },
      commit: () => inner.commit(),
      close: () => inner.close(),
      cancel: () => inner.cancel(),
    };
  };
}

describe('a push when the storage is full', () => {
  let reg: TestRegistry;
  let full = true;
  before(async () => {
    reg = await startTestRegistry();
    fillUp(reg.running.registry.driver, MiB, () => full);
  });
  after(() => reg.stop());

  async function startUpload(): Promise<URL> {
    const res = await fetch(`${reg.url}/v2/full/app/blobs/uploads/`, { method: 'POST' });
    assert.equal(res.status, 202);
    return new URL(res.headers.get('location') ?? '', reg.url);
  }

  /** The request, failing the test if no answer comes within 20 s (it used to never come). */
  async function send(url: URL, init: RequestInit): Promise<Response> {
    return fetch(url, { ...init, signal: AbortSignal.timeout(20_000) });
  }

  it('answers 507 with the reason to a monolithic PUT, promptly', async () => {
    const data = randomBytes(8 * MiB);
    const url = await startUpload();
    url.searchParams.set('digest', `sha256:${createHash('sha256').update(data).digest('hex')}`);
    const res = await send(url, { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(res.status, 507);
    const body = (await res.json()) as { errors: { code: string; message: string }[] };
    assert.equal(body.errors[0]?.code, 'UNKNOWN');
    assert.match(body.errors[0]?.message ?? '', /no storage space left/);
  });

  it('answers 507 to a PATCH, and the same upload goes on once there is room again', async () => {
    const data = randomBytes(4 * MiB);
    const url = await startUpload();
    const refused = await send(url, {
      method: 'PATCH',
      body: data,
      headers: { 'content-type': 'application/octet-stream', 'content-range': `0-${data.length - 1}` },
    });
    assert.equal(refused.status, 507);
    await refused.arrayBuffer();

    full = false;
    const status = await send(url, { method: 'GET' });
    assert.equal(status.status, 204);
    // The client resumes from what the upload holds (whatever of the refused chunk was written;
    // "0-0" is an empty upload, as distribution answers).
    const range = status.headers.get('range') ?? '0-0';
    const from = range === '0-0' ? 0 : Number(range.split('-')[1]) + 1;
    assert.ok(from <= MiB, `at most the bytes written before the disk filled are kept (${range})`);
    const rest = data.subarray(from);
    const more = await send(url, {
      method: 'PATCH',
      body: rest,
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${from}-${data.length - 1}` },
    });
    assert.equal(more.status, 202);
    const done = new URL(more.headers.get('location') ?? '', reg.url);
    done.searchParams.set('digest', `sha256:${createHash('sha256').update(data).digest('hex')}`);
    const put = await send(done, { method: 'PUT' });
    assert.equal(put.status, 201);
  });
});
