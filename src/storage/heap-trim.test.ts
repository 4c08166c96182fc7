import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { heapTrimAvailable, heapTrims, transferEnded, transferStarted } from './heap-trim.ts';

function start(n: number): void {
  for (let i = 0; i < n; i++) transferStarted();
}
function end(n: number): void {
  for (let i = 0; i < n; i++) transferEnded();
}

describe('heap trim after bulk transfers', { skip: heapTrimAvailable ? false : 'the native addon (native/aligned.c) is not built' }, () => {
  it('never trims after transfers one at a time', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const before = heapTrims();
    for (let i = 0; i < 5; i++) {
      start(1);
      end(1);
      t.mock.timers.tick(60_000);
    }
    assert.equal(heapTrims(), before);
  });

  it('trims once, 10 s after the last transfer of a burst of 4 or more, unless another begins', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const before = heapTrims();
    start(4);
    end(3);
    t.mock.timers.tick(60_000);
    assert.equal(heapTrims(), before, 'not while a transfer still runs');
    end(1);
    t.mock.timers.tick(5_000);
    start(1); // the next transfer before the burst was over
    t.mock.timers.tick(60_000);
    assert.equal(heapTrims(), before, 'not while the next one runs');
    end(1);
    t.mock.timers.tick(9_999);
    assert.equal(heapTrims(), before);
    t.mock.timers.tick(1);
    assert.equal(heapTrims(), before + 1, 'once, 10 s after the burst');
    start(1);
    end(1);
    t.mock.timers.tick(60_000);
    assert.equal(heapTrims(), before + 1, 'and not again for a single transfer after it');
  });
});
