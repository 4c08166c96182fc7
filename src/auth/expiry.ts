/**
 * When an access token expires, as people write it: a lifetime (`30d`, `12h`, `1d12h`, `90m`, or a
 * number of seconds) or a moment (an ISO 8601 date). Lifetimes are Go durations (the config's
 * format) plus a day unit, which tokens need and Go lacks. Shared by the JSON API and the CLI.
 */
import { parseDuration } from '../config/duration.ts';
import { AccountInvalidError } from './errors.ts';

const DAY_MS = 86_400_000;
const DAYS = /^(\d+)d(.*)$/;
/** The longest lifetime a token may be given: ten years (a token that should never expire has none). */
const MAX_LIFETIME_MS = 3650 * DAY_MS;

/** A lifetime in milliseconds: `30d`, `1d12h`, `720h`, `45m`, or whole seconds (`3600` or 3600). */
export function parseLifetime(value: string | number): number {
  let ms: number;
  if (typeof value === 'number' || /^\d+$/.test(value)) {
    ms = Number(value) * 1000;
    if (!Number.isSafeInteger(Number(value))) throw invalid(value, 'seconds must be a whole number');
  } else {
    const days = DAYS.exec(value);
    try {
      ms = days === null ? parseDuration(value) : Number(days[1]) * DAY_MS + (days[2] === '' ? 0 : parseDuration(days[2] ?? ''));
    } catch (err) {
      if (err instanceof RangeError) throw invalid(value, 'use days, hours, minutes or seconds, e.g. "30d", "12h", "1d12h" or a number of seconds');
      throw err;
    }
  }
  if (!(ms > 0)) throw invalid(value, 'a lifetime must be positive');
  if (ms > MAX_LIFETIME_MS) throw invalid(value, 'at most 3650d; leave the expiry out for a token that does not expire');
  return Math.round(ms);
}

/** A moment as an ISO 8601 date (`2027-01-31`, `2027-01-31T12:00:00Z`), in epoch milliseconds. */
export function parseMoment(value: string): number {
  const at = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(at)) throw invalid(value, 'expected an ISO 8601 date such as 2027-01-31T12:00:00Z');
  return at;
}

/**
 * The expiry of a new token (epoch milliseconds) from at most one of a lifetime and a moment;
 * null for none (the token does not expire).
 */
export function tokenExpiry(opts: { expiresIn?: string | number | undefined; expiresAt?: string | undefined }, now = Date.now()): number | null {
  const { expiresIn, expiresAt } = opts;
  if (expiresIn !== undefined && expiresAt !== undefined) throw new AccountInvalidError('give either an expiry lifetime or an expiry date, not both');
  if (expiresIn !== undefined) return now + parseLifetime(expiresIn);
  if (expiresAt !== undefined) return parseMoment(expiresAt);
  return null;
}

function invalid(value: string | number, why: string): AccountInvalidError {
  return new AccountInvalidError(`invalid expiry ${JSON.stringify(value)}: ${why}`, { expiry: value });
}
