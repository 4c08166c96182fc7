import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PullCounter } from './pulls.ts';

describe('PullCounter', () => {
  it('batches pulls in memory and writes them in one call per flush', async () => {
    const writes: Map<string, number>[] = [];
    const counter = new PullCounter({ addPulls: async (c) => void writes.push(new Map(c)) }, { intervalMs: 60_000 });
    for (let i = 0; i < 1000; i++) counter.record('alice/app');
    counter.record('bob/tool');
    assert.equal(writes.length, 0);
    await counter.flush();
    assert.deepEqual(writes, [new Map([['alice/app', 1000], ['bob/tool', 1]])]);
    await counter.flush();
    assert.equal(writes.length, 1, 'nothing to write, nothing written');
    counter.record('alice/app');
    await counter.close();
    assert.deepEqual(writes[1], new Map([['alice/app', 1]]));
  });

  it('keeps the counts of a failed write for the next flush', async () => {
    let fail = true;
    const errors: unknown[] = [];
    const written: Map<string, number>[] = [];
    const counter = new PullCounter(
      {
        addPulls: async (c) => {
          if (fail) throw new Error('database is locked');
          written.push(new Map(c));
        },
      },
      { intervalMs: 60_000, onError: (e) => errors.push(e) },
    );
    counter.record('a/b');
    await counter.flush();
    assert.equal(errors.length, 1);
    counter.record('a/b');
    fail = false;
    await counter.close();
    assert.deepEqual(written, [new Map([['a/b', 2]])]);
  });

  it('stamps each tag or digest pulled or resolved with its last time, in one batch per flush, kept over a failed write', async () => {
    let clock = 1000;
    let fail = true;
    const batches: unknown[][] = [];
    const counts: Map<string, number>[] = [];
    const counter = new PullCounter(
      { addPulls: async (c) => void counts.push(new Map(c)) },
      {
        intervalMs: 60_000,
        now: () => clock,
        onError: () => undefined,
        tags: {
          recordPulls: async (pulls) => {
            if (fail) throw new Error('database is locked');
            batches.push([...pulls]);
          },
        },
      },
    );
    counter.record('a/b', 'v1');
    clock = 2000;
    counter.record('a/b', 'v1');
    counter.used('a/b', 'sha256:1');
    counter.record('c/d');
    await counter.flush();
    assert.equal(batches.length, 0, 'the failed write is kept');
    clock = 3000;
    counter.used('a/b', 'sha256:1');
    fail = false;
    await counter.close();
    assert.equal(batches.length, 1);
    const byReference = (x: unknown, y: unknown) => ((x as { reference: string }).reference < (y as { reference: string }).reference ? -1 : 1);
    assert.deepEqual(batches[0]?.sort(byReference), [{ repository: 'a/b', reference: 'sha256:1', at: 3000 }, { repository: 'a/b', reference: 'v1', at: 2000 }]);
    assert.deepEqual(counts, [new Map([['a/b', 2], ['c/d', 1]])], 'a HEAD (used) is no pull');
  });
});
