/**
 * Blob pulls through the registry under load: many at once arrive intact, and a client that goes
 * away mid-body leaves no descriptor of its pull open (sendfile or stream alike).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { sha256 } from '../helpers/client.ts';
import { useTestRegistry } from '../helpers/inproc.ts';

/** How many of this process's descriptors point to a file whose path contains `part`. */
async function openOn(part: string): Promise<number> {
  let n = 0;
  for (const fd of await fs.readdir('/proc/self/fd')) {
    const target = await fs.readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target.includes(part)) n++;
  }
  return n;
}

describe('blob pulls', { skip: process.platform === 'linux' ? false : 'counts descriptors in /proc' }, () => {
  const t = useTestRegistry();

  it('serves 16 concurrent pulls of one blob, each intact', async () => {
    const d = await t.client.pushBlob('load/app', randomBytes(4 * 1024 * 1024 + 3));
    const digests = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const res = await t.client.fetch(`/v2/load/app/blobs/${d.digest}`);
        assert.equal(res.status, 200);
        return sha256(Buffer.from(await res.arrayBuffer()));
      }),
    );
    assert.deepEqual(digests, Array(16).fill(d.digest));
  });

  it('closes the blob file when the client goes away mid-body', { timeout: 30_000 }, async () => {
    const d = await t.client.pushBlob('load/app', randomBytes(48 * 1024 * 1024));
    const hex = d.digest.slice('sha256:'.length);
    const { port } = new URL(t.reg.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.write(`GET /v2/load/app/blobs/${d.digest} HTTP/1.1\r\nHost: x\r\n\r\n`);
    // Read a little, then stop: the body is being sent and the file is open.
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.once('data', () => {
        socket.pause();
        resolve();
      });
    });
    assert.equal(await openOn(hex), 1, 'the blob is open while it is sent');
    socket.resetAndDestroy();
    // No notification reaches the test from inside the server: watch the descriptor table.
    while ((await openOn(hex)) > 0) await delay(20);
    assert.equal(await openOn(hex), 0);
  });
});
