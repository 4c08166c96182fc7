/**
 * withMetaMetrics: the wrapped SQLite store still passes the shared meta store suite, and every
 * call, successful or not, is timed by operation.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { runMetaStoreConformance } from '../meta/conformance.ts';
import { SqliteMetaStore } from '../meta/sqlite/sqlite-store.ts';
import type { MetaStore } from '../meta/store.ts';
import { withMetaMetrics } from './meta-metrics.ts';
import { Metrics } from './metrics.ts';
import { sampleValue } from './test-support.ts';

async function tempStore(now?: () => number): Promise<{ store: SqliteMetaStore; cleanup: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-meta-metrics-'));
  return { store: new SqliteMetaStore(path.join(dir, 'meta.db'), { ...(now !== undefined && { now }) }), cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

runMetaStoreConformance('sqlite with metrics', async (now) => {
  const { store, cleanup } = await tempStore(now);
  return { store: withMetaMetrics(store, new Metrics({ processMetrics: false })), cleanup };
});

it('withMetaMetrics times every call by operation, failures included', async (t) => {
  const { store, cleanup } = await tempStore();
  t.after(cleanup);
  const metrics = new Metrics({ processMetrics: false });
  const meta: MetaStore = withMetaMetrics(store, metrics);
  await meta.ping();
  await meta.createUpload({ id: 'u1', repo: 'r/x', startedAt: 1 });
  assert.equal((await meta.getUpload('u1'))?.repo, 'r/x');
  assert.equal(await meta.getUpload('u2'), undefined);
  t.mock.method(store, 'ping', async () => {
    throw new Error('database is locked');
  });
  await assert.rejects(meta.ping(), /database is locked/);
  await meta.close();

  const { body } = await metrics.render();
  const count = (operation: string) => sampleValue(body, 'berth_meta_operation_duration_seconds_count', { operation });
  assert.equal(count('ping'), 2);
  assert.equal(count('createUpload'), 1);
  assert.equal(count('getUpload'), 2);
  assert.equal(count('close'), 1);
  assert.equal(count('linkBlob'), undefined);
});
