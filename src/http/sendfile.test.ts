/**
 * Zero-copy pulls: the addon is built on Linux (CI must have it), and a blob sent with it arrives
 * byte for byte, whole and as a range, over a real connection; many at once; a client that goes
 * away or stops reading leaves no descriptor open, and pulls hold no threadpool thread.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { canSendfile, copiesThroughBuffer, sendFile, type SendVia } from './sendfile.ts';

async function serveOnce(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  // Closing drops the connections still open (stalled clients).
  const close = () => new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  });
  return { url: `http://127.0.0.1:${port}`, close };
}

/** Whether responses here can use sendfile (the addon is built). */
async function available(): Promise<boolean> {
  const probe = await serveOnce((_req, res) => res.end(String(canSendfile(res))));
  const answer = await (await fetch(probe.url)).text();
  await probe.close();
  return answer === 'true';
}

/** What this process's descriptors point to (files, socket:[inode]). */
async function openFds(): Promise<Set<string>> {
  const targets = new Set<string>();
  for (const fd of await fs.readdir('/proc/self/fd')) {
    const target = await fs.readlink(`/proc/self/fd/${fd}`).catch(() => undefined);
    if (target !== undefined) targets.add(target);
  }
  return targets;
}

/** What `now` points to that `before` did not. */
const added = (before: Set<string>, now: Set<string>): string[] => [...now].filter((x) => !before.has(x));

/** A file of `size` random bytes in a temporary directory removed after the test. */
async function tempBlob(t: { after(fn: () => Promise<void>): void }, size: number): Promise<{ file: string; data: Buffer }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-sendfile-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const data = randomBytes(size);
  const file = path.join(dir, 'blob');
  await fs.writeFile(file, data);
  return { file, data };
}

/**
 * A server that sends `file` whole with sendFile (501 without the addon); `settled` gets each
 * sendFile's outcome, after the file is closed.
 */
async function fileServer(file: string, size: number, via: SendVia, idleMs?: number) {
  const settled: Array<Promise<Error | undefined>> = [];
  const server = await serveOnce((_req, res) => {
    if (!canSendfile(res)) {
      res.statusCode = 501;
      res.end();
      return;
    }
    const outcome = fs.open(file, 'r').then((handle) => {
      res.writeHead(200, { 'Content-Length': size });
      return sendFile(res, { fd: handle.fd, offset: 0, length: size, close: () => handle.close() }, idleMs, via);
    });
    settled.push(outcome.then(() => undefined, (err: unknown) => err as Error));
  });
  return { ...server, settled };
}

/** A raw connection that asks for `/` and reads `bytes` of the answer, then stops reading. */
async function readSome(url: string, bytes: number): Promise<net.Socket> {
  const { port } = new URL(url);
  const socket = net.connect(Number(port), '127.0.0.1');
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  let seen = 0;
  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen < bytes) return;
      socket.off('data', onData);
      socket.pause();
      resolve();
    };
    socket.on('data', onData);
  });
  return socket;
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

  it('copies through a buffer for loopback clients only (BERTH_SENDFILE unset)', { skip: process.env['BERTH_SENDFILE'] }, () => {
    for (const peer of ['127.0.0.1', '127.3.4.5', '::1', '::ffff:127.0.0.1']) assert.equal(copiesThroughBuffer({ remoteAddress: peer }), true, peer);
    for (const peer of ['10.0.0.7', '192.168.1.2', '::ffff:10.1.2.3', 'fe80::1', '2001:db8::127', undefined]) {
      assert.equal(copiesThroughBuffer({ remoteAddress: peer }), false, String(peer));
    }
  });
});

for (const via of ['sendfile', 'copy'] as const) {
  describe(`blob pulls on the event loop with ${via}`, { skip: process.platform === 'linux' ? false : 'sendfile(2) is Linux only' }, () => {
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
          return sendFile(res, { fd: handle.fd, offset, length, close: () => handle.close() }, undefined, via);
        });
      });
      t.after(() => server.close());
      const whole = await fetch(`${server.url}/whole`);
      if (whole.status === 501) return t.skip('sendfile addon not built');
      assert.ok(Buffer.from(await whole.arrayBuffer()).equals(data));
      const part = await fetch(`${server.url}/range`);
      assert.ok(Buffer.from(await part.arrayBuffer()).equals(data.subarray(1000, 6000)));
    });

    it('sends 16 pulls at once, each intact', async (t) => {
      const { file, data } = await tempBlob(t, 8 * 1024 * 1024 + 5);
      const server = await fileServer(file, data.length, via);
      t.after(() => server.close());
      const want = createHash('sha256').update(data).digest('hex');
      const bodies = await Promise.all(
        Array.from({ length: 16 }, async () => {
          const res = await fetch(server.url);
          if (res.status === 501) return undefined;
          return createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex');
        }),
      );
      if (bodies[0] === undefined) return t.skip('sendfile addon not built');
      assert.deepEqual(bodies, Array(16).fill(want));
    });

    it('frees the file and the socket when the client goes away mid-body', async (t) => {
      const { file, data } = await tempBlob(t, 64 * 1024 * 1024);
      const server = await fileServer(file, data.length, via);
      t.after(() => server.close());
      if (!(await available())) return t.skip('sendfile addon not built');
      const before = await openFds();
      // Paused after a few bytes, the socket buffers fill and the job waits for room; then the
      // client resets the connection.
      const client = await readSome(server.url, 1024);
      const during = added(before, await openFds());
      assert.ok(during.includes(file), 'the blob is open while it is sent');
      client.resetAndDestroy();
      const outcome = await server.settled[0];
      assert.ok(outcome instanceof Error, 'the pull was cut short');
      const after = await openFds();
      assert.deepEqual(during.filter((x) => after.has(x)), [], 'no descriptor (file, socket, dup) is left open');
    });

    it('drops a client that stops reading, after the idle time, and frees everything', async (t) => {
      const { file, data } = await tempBlob(t, 64 * 1024 * 1024);
      const server = await fileServer(file, data.length, via, 200);
      t.after(() => server.close());
      if (!(await available())) return t.skip('sendfile addon not built');
      const before = await openFds();
      const client = await readSome(server.url, 1024);
      t.after(() => client.destroy());
      const during = added(before, await openFds());
      // the client's end, the server's end and its dup (one socket), the file
      assert.equal(during.length, 3);
      const outcome = await server.settled[0];
      assert.equal((outcome as { errno?: number } | undefined)?.errno, os.constants.errno.ETIMEDOUT);
      const after = await openFds();
      assert.equal(during.filter((x) => after.has(x)).length, 1, "only the stalled client's own end stays open");
    });

    it('holds no threadpool thread while clients are slow: file system calls still run', { timeout: 20_000 }, async (t) => {
      const { file, data } = await tempBlob(t, 64 * 1024 * 1024);
      const server = await fileServer(file, data.length, via);
      t.after(() => server.close());
      if (!(await available())) return t.skip('sendfile addon not built');
      // More stalled pulls than the pool has threads (4 by default): a pull that held a thread
      // until done would leave none for the stat below, which would then wait for the idle time.
      const clients = await Promise.all(Array.from({ length: 6 }, () => readSome(server.url, 1024)));
      t.after(() => clients.forEach((c) => c.destroy()));
      const info = await fs.stat(file);
      assert.equal(info.size, data.length);
    });
  });
}
