import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StorageSample, StorageUsage, StorageUsageStore } from '../meta/storage-usage.ts';
import { DEFAULT_SAMPLE_RETENTION_MS, SAMPLED_NAMESPACES, StorageSampler, sampleOf } from './storage-sampler.ts';

/** A usage store in memory that counts its calls. */
class FakeUsage implements StorageUsageStore {
  recorded: StorageSample[] = [];
  prunedBefore: number[] = [];
  fail = false;
  constructor(public current: StorageUsage = { total: { bytes: 30, blobs: 2 }, namespaces: [{ namespace: 'alice', bytes: 30, repositories: 1 }] }) {}
  async usage(): Promise<StorageUsage> {
    if (this.fail) throw new Error('disk on fire');
    return this.current;
  }
  async namespaceUsage(namespace: string): Promise<number> {
    return this.current.namespaces.find((n) => n.namespace === namespace)?.bytes ?? 0;
  }
  async namespaceLinks(): Promise<boolean> {
    return false;
  }
  async recordSample(sample: StorageSample): Promise<void> {
    this.recorded.push(sample);
  }
  async samples(since: number): Promise<StorageSample[]> {
    return this.recorded.filter((s) => s.at >= since);
  }
  async pruneSamples(before: number): Promise<void> {
    this.prunedBefore.push(before);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('storage sampler', () => {
  it('samples the total and the largest namespaces', () => {
    const namespaces = Array.from({ length: SAMPLED_NAMESPACES + 5 }, (_, i) => ({ namespace: `ns${i}`, bytes: 1000 - i, repositories: 1 }));
    const sample = sampleOf({ total: { bytes: 99_999, blobs: 9 }, namespaces }, 42);
    assert.equal(sample.at, 42);
    assert.equal(sample.total, 99_999);
    assert.equal(Object.keys(sample.namespaces).length, SAMPLED_NAMESPACES);
    assert.equal(sample.namespaces['ns0'], 1000);
    assert.equal(sample.namespaces[`ns${SAMPLED_NAMESPACES}`], undefined);
  });

  it('takes a sample at start and every interval, prunes past the retention, and stops', async () => {
    const store = new FakeUsage();
    let clock = 1_000_000_000_000;
    const sampler = new StorageSampler(store, { intervalMs: 40, now: () => clock++ });
    sampler.start();
    sampler.start();
    await sleep(10);
    assert.equal(store.recorded.length, 1, 'the first sample right after start');
    assert.deepEqual(store.recorded[0], { at: 1_000_000_000_000, total: 30, namespaces: { alice: 30 } });
    assert.deepEqual(store.prunedBefore, [1_000_000_000_000 - DEFAULT_SAMPLE_RETENTION_MS]);
    await sleep(100);
    assert.ok(store.recorded.length >= 2, `then every interval (${store.recorded.length})`);
    await sampler.stop();
    const taken = store.recorded.length;
    await sleep(100);
    assert.equal(store.recorded.length, taken, 'none after stop');
  });

  it('reports failures and carries on', async () => {
    const store = new FakeUsage();
    const errors: unknown[] = [];
    const sampler = new StorageSampler(store, { onError: (err) => errors.push(err) });
    store.fail = true;
    await sampler.sample();
    assert.equal(errors.length, 1);
    store.fail = false;
    await sampler.sample();
    assert.equal(store.recorded.length, 1);
    await sampler.stop();
  });
});
