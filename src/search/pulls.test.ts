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
});
