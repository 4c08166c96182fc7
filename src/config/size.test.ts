import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSize, parseSize } from './size.ts';

describe('sizes', () => {
  it('reads bytes, binary and decimal units, any case, with or without a space', () => {
    const cases: [string | number, number][] = [
      [0, 0],
      [1073741824, 2 ** 30],
      ['0', 0],
      ['512', 512],
      ['10GiB', 10 * 2 ** 30],
      ['10 gib', 10 * 2 ** 30],
      ['1.5KiB', 1536],
      ['100GB', 100e9],
      ['2kB', 2000],
      ['3 TiB', 3 * 2 ** 40],
      ['7B', 7],
    ];
    for (const [text, bytes] of cases) assert.equal(parseSize(text), bytes, String(text));
  });

  it('refuses what is not a size, naming it', () => {
    for (const bad of ['', 'ten', '10 GiBs', '-1', '1e9', '1.5', '1.5B', '10 G', '99999999 PiB', -1, 1.5, Number.NaN, 2 ** 60]) {
      assert.throws(() => parseSize(bad), RangeError, String(bad));
    }
  });

  it('writes sizes for people', () => {
    assert.deepEqual([0, 973, 1024, 1536, 10 * 2 ** 30, 2 ** 30 - 1].map(formatSize), ['0 B', '973 B', '1 KiB', '1.5 KiB', '10 GiB', '1023.9 MiB']);
  });
});
