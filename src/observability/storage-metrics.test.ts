/**
 * withStorageMetrics: the wrapped driver still passes the shared conformance suite (it changes no
 * behaviour), and every call is timed and every rejection counted by code, on the memory driver
 * and on the filesystem driver over a temp root.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import { describe, it } from 'node:test';
import { withPathValidation } from '../storage/base.ts';
import { runDriverConformance } from '../storage/conformance.ts';
import type { StorageDriver } from '../storage/driver.ts';
import { FilesystemDriver } from '../storage/drivers/fs.ts';
import { MemoryDriver } from '../storage/drivers/memory.ts';
import { Metrics } from './metrics.ts';
import { withStorageMetrics } from './storage-metrics.ts';
import { sampleValue } from './test-support.ts';

runDriverConformance('inmemory with metrics', async () => ({
  driver: withStorageMetrics(withPathValidation(new MemoryDriver()), new Metrics({ processMetrics: false })),
  cleanup: async () => undefined,
}));

/** Exercise every operation once or more; returns nothing, the metrics tell. */
async function exercise(d: StorageDriver): Promise<void> {
  await d.putContent('/a/one', Buffer.from('1'));
  await d.putContent('/a/two', Buffer.from('22'));
  assert.deepEqual(await d.getContent('/a/one'), Buffer.from('1'));
  await assert.rejects(d.getContent('/a/missing'), { code: 'BERTH_PATH_NOT_FOUND' });
  await assert.rejects(d.stat('/nope'), { code: 'BERTH_PATH_NOT_FOUND' });
  await assert.rejects(d.stat('/Upper'), { code: 'BERTH_INVALID_PATH' });
  assert.equal((await d.stat('/a/two')).size, 2);
  const w = await d.writer('/w/f', false);
  await w.write(Buffer.from('abc'));
  await w.commit();
  const r = await d.reader('/w/f', { offset: 1 });
  r.destroy();
  await d.move('/w/f', '/a/three');
  assert.deepEqual(await d.list('/a'), ['/a/one', '/a/three', '/a/two']);
  let files = 0;
  await d.walk('/', () => {
    files++;
  });
  assert.equal(files, 3);
  await d.flush(['/a/one']);
  assert.equal(await d.redirectURL('/a/one', 'GET'), undefined);
  await d.delete('/a');
  await d.delete('/w').catch(() => undefined); // the filesystem driver keeps a moved file's directory
}

async function checkCounts(metrics: Metrics, driver: string): Promise<void> {
  const { body } = await metrics.render();
  const count = (operation: string) => sampleValue(body, 'berth_storage_operation_duration_seconds_count', { driver, operation });
  const errors = (operation: string, code: string) => sampleValue(body, 'berth_storage_errors_total', { driver, operation, code });
  assert.equal(count('putContent'), 2);
  assert.equal(count('getContent'), 2);
  assert.equal(count('stat'), 3);
  assert.equal(count('writer'), 1);
  assert.equal(count('reader'), 1);
  assert.equal(count('move'), 1);
  assert.equal(count('list'), 1);
  assert.equal(count('walk'), 1);
  assert.equal(count('flush'), 1);
  assert.equal(count('redirectURL'), 1);
  assert.ok((count('delete') ?? 0) >= 1);
  assert.equal(errors('getContent', 'BERTH_PATH_NOT_FOUND'), 1);
  assert.equal(errors('stat', 'BERTH_PATH_NOT_FOUND'), 1);
  assert.equal(errors('stat', 'BERTH_INVALID_PATH'), 1);
  assert.equal(errors('putContent', 'BERTH_PATH_NOT_FOUND'), undefined);
}

describe('withStorageMetrics', () => {
  it('times and counts every operation of the memory driver', async () => {
    const metrics = new Metrics({ processMetrics: false });
    const d = withStorageMetrics(withPathValidation(new MemoryDriver()), metrics);
    assert.equal(d.name, 'inmemory');
    await exercise(d);
    await checkCounts(metrics, 'inmemory');
  });

  it('times and counts every operation of the filesystem driver, and errors by their code', async (t) => {
    const parent = await fs.mkdtemp(nodePath.join(os.tmpdir(), 'berth-metrics-'));
    t.after(() => fs.rm(parent, { recursive: true, force: true }));
    const metrics = new Metrics({ processMetrics: false });
    const root = nodePath.join(parent, 'root');
    const d = withStorageMetrics(withPathValidation(new FilesystemDriver(root)), metrics);
    await exercise(d);
    await checkCounts(metrics, 'filesystem');

    // A regular file where the root should be: writes fail with a StorageError (BERTH_STORAGE).
    await fs.rm(root, { recursive: true, force: true });
    await fs.writeFile(root, 'not a directory');
    await assert.rejects(d.putContent('/x/y', Buffer.from('z')));
    const { body } = await metrics.render();
    assert.equal(sampleValue(body, 'berth_storage_errors_total', { driver: 'filesystem', operation: 'putContent', code: 'BERTH_STORAGE' }), 1);
  });
});
