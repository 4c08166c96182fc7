/**
 * Zero-copy pulls: the addon is built on Linux (CI must have it), and a blob sent with it arrives
 * byte for byte, whole and as a range, over a real connection.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { canSendfile, sendFile } from './sendfile.ts';

async function serveOnce(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

describe('sendfile', { skip: process.platform === 'linux' ? false : 'sendfile(2) is Linux only' }, () => {
  it('is available (the addon is built by npm install)', async () => {
    const probe = await serveOnce((_req, res) => {
      res.end(String(canSendfile(res)));
    });
    const available = await (await fetch(probe.url)).text();
    await probe.close();
    if (process.env['CI'] === 'true') assert.equal(available, 'true', 'CI must build native/ (npm ci runs node-gyp)');
    else if (available !== 'true') console.log('# sendfile addon not built here: pulls stream instead');
  });

  it('sends a file range byte for byte, then keeps the connection for the next response', async (t) => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-sendfile-'));
    t.after(() => fs.rm(dir, { recursive: true, force: true }));
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const file = path.join(dir, 'blob');
    await fs.writeFile(file, data);
    const server = await serveOnce((req, res) => {
      if (!canSendfile(res)) {
        res.statusCode = 501;
        res.end();
        return;
      }
      const offset = req.url === '/range' ? 1000 : 0;
      const length = req.url === '/range' ? 5000 : data.length;
      void fs.open(file, 'r').then((handle) => {
        res.writeHead(200, { 'Content-Length': length });
        return sendFile(res, { fd: handle.fd, offset, length, close: () => handle.close() });
      });
    });
    t.after(() => server.close());
    const whole = await fetch(`${server.url}/whole`);
    if (whole.status === 501) return t.skip('sendfile addon not built');
    assert.ok(Buffer.from(await whole.arrayBuffer()).equals(data));
    const part = await fetch(`${server.url}/range`);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(data.subarray(1000, 6000)));
  });
});
