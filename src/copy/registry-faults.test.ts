/**
 * The registry client when the network misbehaves: a proxy in front of a real berth answers a
 * PATCH with 503, or cuts one mid-body, and the upload goes on from the offset berth reports; a
 * blob redirected to another origin is fetched there without our credentials.
 */
import assert from 'node:assert/strict';
import http, { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pseudoRandom, sha256 } from '../../test/fixtures/oci.ts';
import { startTestRegistry, type TestRegistry } from '../../test/helpers/inproc.ts';
import { SYSTEM } from '../auth/principal.ts';
import { RegistryClient } from './registry-client.ts';
import { uploadBlob } from './registry-upload.ts';

const MiB = 1024 * 1024;

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; host: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return { server, host: `127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}` };
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

/** What to do to the Nth PATCH (1-based): answer 503 or 401 (a token expired) at once, or cut it after this many bytes. */
type Fault = 'unavailable' | 'expired' | number;

interface FaultyProxy {
  server: Server;
  host: string;
  faults: Map<number, Fault>;
  patches: number;
}

/** A proxy to `target` that does `faults` to the PATCHes going through. */
async function faultyProxy(target: URL): Promise<FaultyProxy> {
  const state = { faults: new Map<number, Fault>(), patches: 0 };
  const { server, host } = await listen((req, res) => {
    const fault = req.method === 'PATCH' ? state.faults.get(++state.patches) : undefined;
    if (fault === 'unavailable' || fault === 'expired') {
      req.resume();
      const realm = `Bearer realm="${target.origin}/auth/token",service="berth"`;
      res.writeHead(fault === 'unavailable' ? 503 : 401, fault === 'expired' ? { 'WWW-Authenticate': realm } : {}).end();
      return;
    }
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    if (typeof fault === 'number') {
      let seen = 0;
      req.on('data', (c: Buffer) => {
        seen += c.length;
        if (seen > fault) {
          up.destroy();
          req.socket.destroy();
        } else up.write(c);
      });
      return;
    }
    req.pipe(up);
  });
  return Object.assign(state, { server, host });
}

function bufferSource(data: Buffer): { open: (offset: number) => Promise<Readable>; opened: number[] } {
  const opened: number[] = [];
  const open = async (offset: number) => {
    opened.push(offset);
    const slice = data.subarray(offset);
    return Readable.from([slice.subarray(0, slice.length >> 1), slice.subarray(slice.length >> 1)]);
  };
  return { open, opened };
}

describe('uploads through a faulty proxy to berth', () => {
  let reg: TestRegistry;
  let proxy: FaultyProxy;
  before(async () => {
    reg = await startTestRegistry({ storage: 'filesystem' });
    proxy = await faultyProxy(new URL(reg.url));
  });
  after(async () => {
    await close(proxy.server);
    await reg.stop();
  });

  it('retries a 503 chunk and a chunk cut mid-body from the offset berth reports', async () => {
    const data = pseudoRandom(4 * MiB, 'faults');
    const { open, opened } = bufferSource(data);
    proxy.faults = new Map<number, Fault>([
      [2, 'unavailable'],
      [4, 512 * 1024],
    ]);
    proxy.patches = 0;
    const pauses: number[] = [];
    const client = new RegistryClient({ host: proxy.host, sleep: async (ms) => void pauses.push(ms) });
    after(() => client.close());
    let reported = 0;
    await uploadBlob(client, 'faults/app', { digest: sha256(data), size: data.length }, open, (n) => (reported += n), { chunkSize: MiB });
    console.log(`# opened at ${opened.join(', ')}; ${pauses.length} backoffs`);
    // Opened at 0; again at 1 MiB after the 503 (berth held the first chunk); after the cut, from
    // where berth got to: it keeps the cut chunk's bytes, and while it is still writing them a
    // PATCH is refused (400 "another request is writing", or 416 with its Range) and retried.
    assert.deepEqual(opened.slice(0, 2), [0, MiB]);
    assert.ok(opened.slice(1).every((o) => o >= MiB), 'never started over');
    const last = opened.at(-1) ?? 0;
    assert.ok(last >= 2 * MiB && last <= 2 * MiB + 512 * 1024, `resumed at ${last}`);
    assert.ok(pauses.length >= 2 && pauses.length <= 4, `${pauses.length} backoffs`);
    assert.equal(reported, data.length);
    const got: Buffer[] = [];
    for await (const c of await client.getBlob('faults/app', sha256(data))) got.push(c as Buffer);
    assert.deepEqual(Buffer.concat(got), data);
  });
});

describe('a token that expires mid-upload', () => {
  let reg: TestRegistry;
  let proxy: FaultyProxy;
  before(async () => {
    reg = await startTestRegistry({ storage: 'inmemory' });
    await reg.running.access.accounts.createUser(SYSTEM, 'alice', 'alice-password-1');
    proxy = await faultyProxy(new URL(reg.url));
  });
  after(async () => {
    await close(proxy.server);
    await reg.stop();
  });

  it('answers the 401 to a PATCH with a new token and sends that chunk again', async () => {
    const data = pseudoRandom(3 * MiB, 'expired');
    const { open, opened } = bufferSource(data);
    proxy.faults = new Map<number, Fault>([[2, 'expired']]);
    proxy.patches = 0;
    const client = new RegistryClient({ host: proxy.host, credential: { kind: 'basic', username: 'alice', password: 'alice-password-1' }, sleep: async () => undefined });
    after(() => client.close());
    await uploadBlob(client, 'alice/app', { digest: sha256(data), size: data.length }, open, () => undefined, { chunkSize: MiB });
    assert.deepEqual(opened, [0, MiB]);
    assert.equal(proxy.patches, 4, 'three chunks and the one refused');
    assert.equal(await client.hasBlob('alice/app', sha256(data)), true);
  });
});

describe('redirects', () => {
  let cdn: { server: Server; host: string };
  let registry: { server: Server; host: string };
  const cdnSaw: (string | undefined)[] = [];
  const blob = Buffer.from('blob bytes from the CDN');
  before(async () => {
    cdn = await listen((req, res) => {
      cdnSaw.push(req.headers.authorization);
      res.writeHead(200, { 'Content-Length': String(blob.length) }).end(blob);
    });
    registry = await listen((req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from('u:secret-pw').toString('base64')}`) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"' }).end();
        return;
      }
      res.writeHead(307, { Location: `http://${cdn.host}/blob?sig=1` }).end();
    });
  });
  after(async () => {
    await close(cdn.server);
    await close(registry.server);
  });

  it('follows a blob redirect to another origin without our credentials', async () => {
    const client = new RegistryClient({ host: registry.host, credential: { kind: 'basic', username: 'u', password: 'secret-pw' } });
    const chunks: Buffer[] = [];
    for await (const c of await client.getBlob('a/b', sha256(blob))) chunks.push(c as Buffer);
    assert.deepEqual(Buffer.concat(chunks), blob);
    assert.deepEqual(cdnSaw, [undefined], 'the CDN saw one GET, without the credentials');
    client.close();
  });
});
