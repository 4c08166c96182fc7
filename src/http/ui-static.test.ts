import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { loadUi, rewriteIndex, type UiFiles } from './ui-static.ts';

const INDEX = '<!doctype html><html lang="en"><head><link rel="icon" href="/favicon.svg"><script type="module" src="/assets/index-abc.js"></script></head><body><div id="app"></div></body></html>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;

describe('ui-static', () => {
  let dir: string;
  let server: http.Server;
  let base: string;
  let ui: UiFiles;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'berth-ui-'));
    await mkdir(path.join(dir, 'assets'));
    await writeFile(path.join(dir, 'index.html'), INDEX);
    await writeFile(path.join(dir, 'assets', 'index-abc.js'), SCRIPT);
    await writeFile(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    const loaded = await loadUi(dir, '/reg');
    assert.ok(!('missing' in loaded));
    ui = loaded;
    server = http.createServer((req, res) => {
      if (!ui.serve(req, res, (req.url ?? '/').replace(/^\/reg/, ''))) {
        res.statusCode = 404;
        res.end('not the UI');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/reg`;
  });
  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('says why when the UI is not built', async () => {
    const missing = await loadUi(path.join(dir, 'nope'), '');
    assert.ok('missing' in missing && /npm run build:ui/.test(missing.missing));
  });

  it('rewrites index.html for the path prefix and tells the SPA its base', () => {
    const html = rewriteIndex(INDEX, '/reg');
    assert.match(html, /href="\/reg\/favicon.svg"/);
    assert.match(html, /src="\/reg\/assets\/index-abc.js"/);
    assert.match(html, /<meta name="berth-base" content="\/reg">/);
    assert.match(rewriteIndex(INDEX, ''), /<meta name="berth-base" content="">/);
  });

  it('serves index.html for SPA routes with a strict CSP and no caching', async () => {
    for (const p of ['/', '/r/alice/web', '/settings', '/r/alice/web/tag/1.0', '/r/alice/my.app']) {
      const res = await fetch(base + p, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
      assert.equal(res.status, 200, p);
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'.*script-src 'self'/);
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.match(await res.text(), /berth-base/);
    }
  });

  it('serves hashed assets for a year, compressed as the client accepts, with ETags', async () => {
    const plain = await fetch(`${base}/assets/index-abc.js`, { headers: { 'accept-encoding': 'identity' } });
    assert.equal(plain.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(await plain.text(), SCRIPT);
    const etag = plain.headers.get('etag') ?? '';
    assert.match(etag, /^".+"$/);
    const raw = (enc: string) =>
      new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        http.get(`${base}/assets/index-abc.js`, { headers: { 'accept-encoding': enc } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        }).on('error', reject);
      });
    const br = await raw('gzip, br');
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(brotliDecompressSync(br.body).toString(), SCRIPT);
    const gz = await raw('gzip');
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(gz.body).toString(), SCRIPT);
    const again = await fetch(`${base}/assets/index-abc.js`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.ok(ui.scriptBytes.gzip < ui.scriptBytes.raw);
  });

  it('leaves registry paths, missing files and other methods alone', async () => {
    for (const p of ['/v2/', '/v2/alice/web/tags/list', '/api/v1/session', '/v1/search', '/auth/token', '/assets/missing.js', '/robots.txt']) {
      const res = await fetch(base + p, { headers: { accept: 'text/html' } });
      assert.equal(res.status, 404, p);
      assert.equal(await res.text(), 'not the UI');
    }
    assert.equal((await fetch(`${base}/`, { method: 'POST' })).status, 404);
    // Not a browser navigating: an unknown path stays unknown (the registry's 404 envelope).
    assert.equal((await fetch(`${base}/v3/`, { headers: { accept: 'application/json' } })).status, 404);
    assert.equal((await fetch(`${base}/r/alice/web`)).status, 404);
    const head = await fetch(`${base}/`, { method: 'HEAD' });
    assert.equal(head.status, 200);
  });
});
