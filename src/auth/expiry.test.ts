import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccountInvalidError } from './errors.ts';
import { parseLifetime, parseMoment, tokenExpiry } from './expiry.ts';

const H = 3_600_000;
const D = 24 * H;

describe('token expiry', () => {
  it('reads days, Go durations, and seconds', () => {
    assert.equal(parseLifetime('30d'), 30 * D);
    assert.equal(parseLifetime('1d12h'), D + 12 * H);
    assert.equal(parseLifetime('12h'), 12 * H);
    assert.equal(parseLifetime('720h'), 30 * D);
    assert.equal(parseLifetime('90m'), 1.5 * H);
    assert.equal(parseLifetime('3600'), H);
    assert.equal(parseLifetime(60), 60_000);
  });

  it('refuses what is not a positive lifetime', () => {
    for (const bad of ['', 'soon', '-1h', '0', '0d', '1.5', '3d-', 'd', '1y', '3651d', -5, 0, 1.5]) {
      assert.throws(() => parseLifetime(bad), AccountInvalidError, String(bad));
    }
  });

  it('reads ISO dates', () => {
    assert.equal(parseMoment('2027-01-31T12:00:00Z'), Date.UTC(2027, 0, 31, 12));
    assert.equal(parseMoment('2027-01-31'), Date.UTC(2027, 0, 31));
    for (const bad of ['tomorrow', '31/01/2027', '2027-13-45', '1700000000']) assert.throws(() => parseMoment(bad), AccountInvalidError, bad);
  });

  it('takes one of a lifetime and a date, or neither', () => {
    const now = Date.UTC(2026, 10, 23);
    assert.equal(tokenExpiry({}, now), null);
    assert.equal(tokenExpiry({ expiresIn: '30d' }, now), now + 30 * D);
    assert.equal(tokenExpiry({ expiresAt: '2027-01-01T00:00:00Z' }, now), Date.UTC(2027, 0, 1));
    assert.throws(() => tokenExpiry({ expiresIn: '1d', expiresAt: '2027-01-01' }, now), AccountInvalidError);
  });
});
