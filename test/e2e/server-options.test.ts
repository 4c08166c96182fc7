/** http.prefix, http.relativeurls, http.headers and http.tls over real connections. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Client, sha256 } from '../helpers/client.ts';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';
import { which } from '../helpers/process.ts';

describe('server options', () => {
  const regs: TestRegistry[] = [];
  after(async () => {
    for (const r of regs) await r.stop();
  });

  it('serves under http.prefix with relative Locations and extra headers', async () => {
    const reg = await startTestRegistry({
      storage: 'inmemory',
      config: { http: { prefix: '/reg/', relativeurls: true, headers: { 'X-Content-Type-Options': ['nosniff'] } } },
    });
    regs.push(reg);
    const c = new Client(`${reg.url}/reg`);
    const base = await c.fetch('/v2/');
    assert.equal(base.status, 200);
    assert.equal(base.headers.get('x-content-type-options'), 'nosniff');
    assert.equal((await fetch(`${reg.url}/v2/`)).status, 404, 'nothing outside the prefix');
    const start = await c.fetch('/v2/p/app/blobs/uploads/', { method: 'POST' });
    assert.match(start.headers.get('location') ?? '', /^\/reg\/v2\/p\/app\/blobs\/uploads\/[0-9a-f-]+$/);
    const body = Buffer.from('prefixed');
    const put = await fetch(`${reg.url}${start.headers.get('location')}?digest=${sha256(body)}`, { method: 'PUT', body });
    assert.equal(put.status, 201);
    await c.pushImage('p/app', 'v1');
    await c.pushImage('p/other', 'v1');
    const page = await c.fetch('/v2/_catalog?n=1');
    assert.equal(page.headers.get('link'), '</reg/v2/_catalog?n=1&last=p%2Fapp>; rel="next"');
  });

  it('serves HTTPS with http.tls', { skip: which('openssl') ? false : 'openssl not installed' }, async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-tls-'));
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const reg = await startTestRegistry({ storage: 'inmemory', config: { http: { tls: { certificate: cert, key } } } });
    regs.push(reg);
    const ca = await fs.readFile(cert);
    const status = await new Promise<number>((resolve, reject) => {
      https.get(`${reg.url.replace('http:', 'https:')}/v2/`, { ca }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    assert.equal(status, 200);
    await fs.rm(dir, { recursive: true, force: true });
  });
});
