/**
 * HealthChecker: readiness from real storage and meta stores, failing when the filesystem root
 * cannot be written or the meta store does not answer; the timeout; and distribution's
 * health.storagedriver semantics (background checks failing after `threshold` in a row).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { withPathValidation } from '../storage/base.ts';
import { FilesystemDriver } from '../storage/drivers/fs.ts';
import { MemoryDriver } from '../storage/drivers/memory.ts';
import { HealthChecker, metaCheck, storageCheck, type HealthCheck, type PeriodicOptions } from './health.ts';

const pingOk = { ping: async () => undefined };

/** A check whose outcome the test sets, counting its runs. */
function controlled(periodic?: PeriodicOptions): HealthCheck & { failing: boolean; runs: number } {
  return {
    name: 'controlled',
    periodic,
    failing: false,
    runs: 0,
    async run() {
      this.runs++;
      if (this.failing) throw new Error('simulated failure');
    },
  };
}

describe('readiness checks', () => {
  it('is ready when storage takes a write and the meta store answers, and leaves nothing in storage', async () => {
    const driver = withPathValidation(new MemoryDriver());
    const health = new HealthChecker([storageCheck(driver), metaCheck(pingOk)]);
    assert.deepEqual(health.live(), { status: 'ok' });
    const readiness = await health.ready();
    assert.equal(readiness.ok, true);
    assert.deepEqual(
      readiness.checks.map(({ name, ok, error }) => ({ name, ok, error })),
      [
        { name: 'storage', ok: true, error: undefined },
        { name: 'meta', ok: true, error: undefined },
      ],
    );
    assert.ok(readiness.checks.every((c) => c.latencyMs >= 0));
    assert.deepEqual(await driver.list('/'), []);
  });

  it('is not ready while the filesystem root cannot be written', async (t) => {
    const parent = await fs.mkdtemp(nodePath.join(os.tmpdir(), 'berth-health-'));
    t.after(() => fs.rm(parent, { recursive: true, force: true }));
    const root = nodePath.join(parent, 'root');
    const health = new HealthChecker([storageCheck(withPathValidation(new FilesystemDriver(root))), metaCheck(pingOk)]);
    assert.equal((await health.ready()).ok, true);
    assert.deepEqual(await fs.readdir(root), [], 'the probe file and its directory are removed');

    // The tests run as root, and root ignores permission bits: a root directory chmod'ed 0555
    // would still be writable. A regular file in place of the root directory fails every write
    // for any user (mkdir/open below it: ENOTDIR), as a read-only or lost mount would.
    await fs.rm(root, { recursive: true });
    await fs.writeFile(root, 'not a directory');
    const failing = await health.ready();
    assert.equal(failing.ok, false);
    const storage = failing.checks.find((c) => c.name === 'storage');
    assert.equal(storage?.ok, false);
    assert.match(storage?.error ?? '', /in the way/);
    assert.equal(failing.checks.find((c) => c.name === 'meta')?.ok, true);

    await fs.rm(root);
    assert.equal((await health.ready()).ok, true, 'ready again once the root is writable');
  });

  it('only lists storage when the registry is read-only, and fails when that fails', async (t) => {
    const driver = withPathValidation(new MemoryDriver());
    const put = t.mock.method(driver, 'putContent');
    const health = new HealthChecker([storageCheck(driver, { readOnly: true })]);
    assert.equal((await health.ready()).ok, true, 'an empty root is fine');
    assert.equal(put.mock.callCount(), 0, 'nothing is written');
    t.mock.method(driver, 'list', async () => {
      throw new Error('EIO: i/o error, scandir');
    });
    const failing = await health.ready();
    assert.equal(failing.ok, false);
    assert.equal(failing.checks[0]?.error, 'EIO: i/o error, scandir');
  });

  it('is not ready when the meta store ping throws', async () => {
    const health = new HealthChecker([
      storageCheck(withPathValidation(new MemoryDriver())),
      metaCheck({
        ping: async () => {
          throw new Error('SQLITE_CANTOPEN: unable to open database file');
        },
      }),
    ]);
    const readiness = await health.ready();
    assert.equal(readiness.ok, false);
    assert.deepEqual(
      readiness.checks.map(({ name, ok, error }) => ({ name, ok, error })),
      [
        { name: 'storage', ok: true, error: undefined },
        { name: 'meta', ok: false, error: 'SQLITE_CANTOPEN: unable to open database file' },
      ],
    );
  });

  it('answers within the timeout when a check hangs, without starting it again while it is in flight', async () => {
    let runs = 0;
    const hung: HealthCheck = {
      name: 'storage',
      run: () => {
        runs++;
        return new Promise<void>(() => undefined);
      },
    };
    const health = new HealthChecker([hung, metaCheck(pingOk)], 50);
    const started = performance.now();
    const [first, second] = await Promise.all([health.ready(), health.ready()]);
    assert.ok(performance.now() - started < 1_000);
    assert.equal(first.ok, false);
    assert.equal(first.checks[0]?.error, 'no answer within 50 ms');
    assert.equal(second.ok, false);
    assert.equal((await health.ready()).ok, false);
    assert.equal(runs, 1, 'the hung run is joined, not repeated');
  });
});

describe('periodic checks (health.storagedriver)', () => {
  it('fails only after threshold consecutive failures, and recovers after one success', async () => {
    const check = controlled({ intervalMs: 60_000, threshold: 3 });
    const health = new HealthChecker([check, metaCheck(pingOk)]);
    await health.poll();
    assert.equal((await health.ready()).ok, true);
    assert.equal(check.runs, 1, 'ready() reports the latest background result without running the check');

    check.failing = true;
    await health.poll();
    await health.poll();
    assert.equal((await health.ready()).ok, true, 'two failures in a row are below the threshold');
    await health.poll();
    const failing = await health.ready();
    assert.equal(failing.ok, false, 'the third failure in a row reaches it');
    assert.equal(failing.checks[0]?.error, 'simulated failure');

    check.failing = false;
    await health.poll();
    assert.equal((await health.ready()).ok, true);
    check.failing = true;
    await health.poll();
    await health.poll();
    assert.equal((await health.ready()).ok, true, 'a success resets the count');
    assert.equal(check.runs, 7);
  });

  it('applies the threshold to the storage check of a filesystem root that stops being writable', async (t) => {
    const parent = await fs.mkdtemp(nodePath.join(os.tmpdir(), 'berth-health-'));
    t.after(() => fs.rm(parent, { recursive: true, force: true }));
    const root = nodePath.join(parent, 'root');
    const driver = withPathValidation(new FilesystemDriver(root));
    const health = new HealthChecker([storageCheck(driver, { periodic: { intervalMs: 60_000, threshold: 2 } }), metaCheck(pingOk)]);
    await health.poll();
    assert.equal((await health.ready()).ok, true);
    await fs.rm(root, { recursive: true });
    await fs.writeFile(root, 'not a directory'); // see above: a file where the root directory should be
    await health.poll();
    assert.equal((await health.ready()).ok, true, 'one failure is below the threshold');
    await health.poll();
    assert.equal((await health.ready()).ok, false);
    await fs.rm(root);
    await health.poll();
    assert.equal((await health.ready()).ok, true);
  });

  it('runs the check on demand until the first background result exists', async () => {
    const check = controlled({ intervalMs: 60_000, threshold: 1 });
    check.failing = true;
    const health = new HealthChecker([check]);
    assert.equal((await health.ready()).ok, false);
    assert.equal(check.runs, 1);
  });

  it('start() runs the checks now and every interval, stop() ends them', async () => {
    const check = controlled({ intervalMs: 10, threshold: 1 });
    const health = new HealthChecker([check]);
    health.start();
    health.start();
    assert.equal(check.runs, 1, 'a first round at once, and start is idempotent');
    while (check.runs < 3) await sleep(5);
    health.stop();
    const runs = check.runs;
    await sleep(40);
    assert.equal(check.runs, runs);
  });
});
