/**
 * The collector's scheduling in one process: runs one after the other, and the admin page's
 * "reclaimable" never waiting behind a run (a run held open here by its retention step).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GcStore } from '../meta/gc.ts';
import type { StorageDriver } from '../storage/driver.ts';
import { GarbageCollector } from './gc.ts';

/** A store with nothing queued; records the runs started. */
function emptyStore(): GcStore & { started: string[] } {
  const started: string[] = [];
  return {
    started,
    reviewManifests: async () => ({ candidates: [] }),
    markBlobs: async () => ({ dangling: [] }),
    reclaimMarks: async () => [],
    finishBlobs: async () => {},
    queued: async () => ({ blobs: 0, manifests: 0 }),
    startRun: async (run) => started.push(run.trigger),
    finishRun: async () => {},
    listRuns: async () => [],
  };
}

/** A collector whose real (not dry) runs wait in their retention step until `release()`. */
function heldCollector(): { gc: GarbageCollector; store: ReturnType<typeof emptyStore>; release: () => void } {
  let release = (): void => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const store = emptyStore();
  const gc = new GarbageCollector({
    store,
    manifests: { delete: async () => {} },
    driver: {} as StorageDriver,
    graceMs: 0,
    untagged: 'keep',
    node: 'test',
    retention: async (dryRun) => (dryRun ? undefined : gate),
  });
  return { gc, store, release };
}

describe('GarbageCollector scheduling', () => {
  it('answers reclaimable with the figures from before a run while it goes on, without waiting for it', { timeout: 10_000 }, async () => {
    const { gc, release } = heldCollector();
    const fresh = await gc.reclaimable();
    assert.equal(fresh?.stale, false);
    const run = gc.run({ trigger: 'held' });
    assert.equal(gc.busy, true);
    const during = await gc.reclaimable();
    assert.equal(during?.stale, true);
    assert.equal(during?.report, fresh?.report, 'the last preview');
    release();
    const report = await run;
    assert.equal(report.trigger, 'held');
    assert.equal(gc.busy, false);
    assert.equal((await gc.reclaimable())?.stale, false, 'a new preview once the run ended');
  });

  it('has no figures while the first run goes on, and runs asked for meanwhile wait their turn', { timeout: 10_000 }, async () => {
    const { gc, store, release } = heldCollector();
    const first = gc.run({ trigger: 'first' });
    const second = gc.run({ trigger: 'second' });
    assert.equal(await gc.reclaimable(), undefined);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(store.started, ['first'], 'the second waits for the first');
    release();
    await Promise.all([first, second]);
    assert.deepEqual(store.started, ['first', 'second']);
  });
});
