/**
 * Durability: kill -9 the server in the middle of uploads, restart it on the same root, and check
 * that everything acknowledged survived, nothing half-written is served, and an interrupted
 * chunked upload resumes from what the server reports (its digest re-computed from storage).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { Client, sha256 } from '../helpers/client.ts';
import { startBerth, tempDir, type BerthProcess } from '../helpers/process.ts';

/** Start a request that sends `sent` bytes of a body declared `declared` long, and never finishes it. */
function hangingUpload(url: string, method: string, part: Buffer, declared: number, headers: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request(url, { method, headers: { 'Content-Length': String(declared), ...headers } });
    req.on('error', () => undefined);
    req.write(part, () => setTimeout(resolve, 300));
  });
}

describe('crash safety', () => {
  const servers: BerthProcess[] = [];
  let root = '';
  after(async () => {
    for (const s of servers) await s.stop();
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  it('keeps acknowledged pushes and never serves half-written blobs across kill -9', async () => {
    root = await tempDir('crash');
    const first = await startBerth({ root });
    servers.push(first);
    const c1 = new Client(first.url);
    const img = await c1.pushImage('crash/app', 'v1', { layer: 'acknowledged layer' });

    // A chunked upload with one acknowledged chunk.
    const data = randomBytes(3 * 1024 * 1024);
    const start = await c1.fetch('/v2/crash/app/blobs/uploads/', { method: 'POST' });
    const location = start.headers.get('location') ?? '';
    const chunk = data.subarray(0, 1024 * 1024);
    const ack = await c1.fetch(location, { method: 'PATCH', body: Buffer.from(chunk), headers: { 'Content-Range': `0-${chunk.length - 1}` } });
    assert.equal(ack.status, 202);

    // In flight when the process dies: the next chunk of that upload, and a monolithic push.
    const mono = randomBytes(2 * 1024 * 1024);
    const monoDigest = sha256(mono);
    await hangingUpload(location, 'PATCH', data.subarray(chunk.length, chunk.length + 512 * 1024), 2 * 1024 * 1024);
    await hangingUpload(`${first.url}/v2/crash/app/blobs/uploads/?digest=${monoDigest}`, 'POST', mono.subarray(0, 1024 * 1024), mono.length);
    first.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));

    const second = await startBerth({ root });
    servers.push(second);
    const c2 = new Client(second.url);
    const manifest = await c2.fetch('/v2/crash/app/manifests/v1');
    assert.equal(manifest.status, 200);
    assert.equal(await manifest.text(), img.body);
    assert.equal(await (await c2.fetch(`/v2/crash/app/blobs/${img.layer.digest}`)).text(), 'acknowledged layer');
    assert.equal((await c2.fetch(`/v2/crash/app/blobs/${monoDigest}`, { method: 'HEAD' })).status, 404, 'an unfinished push is not served');

    // The interrupted upload resumes from the size the server reports (at least the acknowledged chunk).
    const newLocation = location.replace(first.url, second.url);
    const status = await c2.fetch(newLocation);
    assert.equal(status.status, 204);
    const have = Number((status.headers.get('range') ?? '0-0').split('-')[1]) + 1;
    assert.ok(have >= chunk.length, `kept ${have} bytes, acknowledged ${chunk.length}`);
    const rest = Buffer.from(data.subarray(have));
    const fin = await c2.fetch(`${newLocation}?digest=${sha256(data)}`, {
      method: 'PUT',
      body: rest,
      headers: { 'Content-Range': `${have}-${data.length - 1}` },
    });
    assert.equal(fin.status, 201, await fin.text());
    const back = Buffer.from(await (await c2.fetch(`/v2/crash/app/blobs/${sha256(data)}`)).arrayBuffer());
    assert.ok(back.equals(data), 'the resumed blob is byte for byte what was sent');
  });
});
