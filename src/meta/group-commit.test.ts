import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupCommit } from './group-commit.ts';

/** A flush the test holds open and releases, recording what each flush covered. */
function heldFlush(written: () => number) {
  const started: { covers: number; release: (err?: Error) => void }[] = [];
  const flush = () =>
    new Promise<void>((resolve, reject) => {
      started.push({ covers: written(), release: (err) => (err === undefined ? resolve() : reject(err)) });
    });
  return { started, flush };
}

describe('group commit', () => {
  it('the first waiter flushes at once; those who come during the flush share the next one', async () => {
    let written = 0;
    const { started, flush } = heldFlush(() => written);
    const group = new GroupCommit(flush);
    const acked: number[] = [];
    const write = (n: number) => {
      written = n;
      return group.sync().then(() => acked.push(n));
    };
    const first = write(1);
    assert.equal(started.length, 1, 'the leader does not wait for company');
    const rest = [2, 3, 4, 5, 6, 7, 8].map(write);
    assert.equal(started.length, 1, 'joiners wait for the running flush to end');
    await Promise.resolve();
    assert.deepEqual(acked, [], 'nothing acknowledged before its flush completes');
    started[0]!.release();
    await first;
    assert.deepEqual(acked, [1]);
    assert.equal(started.length, 2, 'one more flush for everyone who joined');
    assert.equal(started[1]!.covers, 8, 'it began after the last joiner wrote');
    started[1]!.release();
    await Promise.all(rest);
    assert.deepEqual(acked, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(group.flushes, 2, 'eight writers, two flushes');
  });

  it('a failed flush fails the writers waiting for it, and the next writer flushes again', async () => {
    const { started, flush } = heldFlush(() => 0);
    const group = new GroupCommit(flush);
    const a = group.sync();
    const b = group.sync();
    started[0]!.release(new Error('EIO'));
    await assert.rejects(a, /EIO/);
    started[1]!.release(new Error('EIO again'));
    await assert.rejects(b, /EIO again/);
    const c = group.sync();
    assert.equal(started.length, 3);
    started[2]!.release();
    await c;
  });

  it('a writer alone flushes every time (nothing waits for company)', async () => {
    let n = 0;
    const group = new GroupCommit(async () => void n++);
    for (let i = 0; i < 5; i++) await group.sync();
    assert.equal(n, 5);
  });
});
