/**
 * parseDuration: Go's time.ParseDuration syntax, in milliseconds; formatDuration, back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration } from './duration.ts';

describe('parseDuration', () => {
  const valid: [string, number][] = [
    ['168h', 168 * 3_600_000],
    ['24h', 86_400_000],
    ['30m', 1_800_000],
    ['1h30m', 5_400_000],
    ['10s', 10_000],
    ['250ms', 250],
    ['1.5s', 1500],
    ['.5h', 1_800_000],
    ['1h0m0s', 3_600_000],
    ['2us', 0.002],
    ['2µs', 0.002],
    ['1000000ns', 1],
    ['0', 0],
    ['-1m', -60_000],
    ['+1m', 60_000],
  ];
  for (const [text, ms] of valid) {
    it(`parses ${JSON.stringify(text)} as ${ms} ms`, () => {
      assert.ok(Math.abs(parseDuration(text) - ms) < 1e-9, `${parseDuration(text)} != ${ms}`);
    });
  }

  const invalid: [string, RegExp][] = [
    ['', /expected a number followed by a unit/],
    ['10', /missing unit after "10"/],
    ['7d', /unknown unit "d".*168h/],
    ['1w', /unknown unit "w"/],
    ['h', /expected a number/],
    ['1h 30m', /unknown unit "h "/],
    ['ten seconds', /expected a number/],
    ['1..5s', /missing unit after "1."/],
  ];
  for (const [text, message] of invalid) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseDuration(text), (err: unknown) => {
        assert.ok(err instanceof RangeError);
        assert.match(err.message, message);
        assert.ok(err.message.includes(JSON.stringify(text)), 'the message quotes the input');
        return true;
      });
    });
  }
});

describe('formatDuration', () => {
  const cases: [number, string][] = [
    [168 * 3_600_000, '168h'],
    [5_400_000, '1h30m'],
    [90_000, '1m30s'],
    [1000, '1s'],
    [1500, '1s500ms'],
    [250, '250ms'],
    [0.002, '0.002ms'],
    [0, '0s'],
    [-60_000, '-1m'],
  ];
  for (const [ms, text] of cases) {
    it(`formats ${ms} as ${JSON.stringify(text)}, which parses back`, () => {
      assert.equal(formatDuration(ms), text);
      assert.equal(parseDuration(text), ms);
    });
  }

  it('refuses what is not a finite number', () => {
    assert.throws(() => formatDuration(Number.POSITIVE_INFINITY), RangeError);
  });
});
