/** Process lifecycle: graceful shutdown with an upload in flight, and SIGHUP reloading the log level. */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Client } from '../helpers/client.ts';
import { DISTRIBUTION_SAMPLE } from '../../src/config/test-support.ts';
import { startBerth, tempDir, type BerthProcess } from '../helpers/process.ts';

async function waitFor(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('lifecycle', () => {
  const servers: BerthProcess[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const s of servers) await s.stop();
    for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
  });

  it('finishes an upload in flight on SIGTERM, refusing new connections, then exits', async () => {
    const berth = await startBerth();
    servers.push(berth);
    const c = new Client(berth.url);
    const start = await c.fetch('/v2/life/app/blobs/uploads/', { method: 'POST' });
    const location = start.headers.get('location') ?? '';
    const half = Buffer.alloc(512 * 1024, 1);
    let exited = false;
    const proc = await import('node:process');
    const alive = () => {
      try {
        proc.kill(berth.pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const response = new Promise<number>((resolve, reject) => {
      const req = http.request(location, { method: 'PATCH', headers: { 'Content-Length': String(half.length * 2) } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(half, () => {
        berth.kill('SIGTERM');
        setTimeout(() => {
          // The listener is closed: a new connection is refused while this upload goes on.
          http
            .get(`${berth.url}/v2/`, () => reject(new Error('a new request was served during shutdown')))
            .on('error', () => {
              exited = !alive();
              req.end(half);
            });
        }, 300);
      });
    });
    assert.equal(await response, 202, 'the upload in flight completes');
    assert.equal(exited, false, 'the process waited for it');
    await waitFor(() => !alive());
  });

  it('reloads the log level on SIGHUP', async () => {
    const dir = await tempDir('reload');
    dirs.push(dir);
    const file = path.join(dir, 'config.yml');
    await fs.writeFile(file, 'version: 0.1\nlog:\n  level: warn\n');
    const berth = await startBerth({ configFile: file, env: { REGISTRY_LOG_LEVEL: undefined } });
    servers.push(berth);
    await fetch(`${berth.url}/v2/`);
    assert.ok(!berth.logs().includes('"msg":"request"'), 'no access log at warn');
    await fs.writeFile(file, 'version: 0.1\nlog:\n  level: info\n');
    berth.kill('SIGHUP');
    await waitFor(() => berth.logs().includes('configuration reloaded'));
    await fetch(`${berth.url}/v2/`);
    await waitFor(() => berth.logs().includes('"msg":"request"'));
    await fs.writeFile(file, 'version: 0.1\nlog:\n  level: nonsense\n');
    berth.kill('SIGHUP');
    await waitFor(() => berth.logs().includes('configuration reload failed'));
    assert.equal((await fetch(`${berth.url}/v2/`)).status, 200, 'still serving with the old configuration');
  });

  it("starts from distribution's own sample config, unchanged", async () => {
    const dir = await tempDir('sample');
    dirs.push(dir);
    const file = path.join(dir, 'config.yml');
    // The test's address and root directory come from REGISTRY_* variables, as they would for registry:2.
    await fs.writeFile(file, DISTRIBUTION_SAMPLE);
    const berth = await startBerth({ configFile: file });
    servers.push(berth);
    const res = await fetch(`${berth.url}/v2/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal((await fetch(`${berth.url}/readyz`)).status, 200);
  });
});
