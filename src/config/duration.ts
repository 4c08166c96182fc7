/**
 * Go-style durations ("168h", "30m", "1h30m", "1.5s", "250ms"), as written in distribution's
 * configuration (time.ParseDuration), converted to milliseconds, and back (formatDuration).
 *
 * Accepted: an optional sign, then one or more `<number><unit>` groups, where a number may have a
 * fraction and a unit is one of ns, us (µs, μs), ms, s, m, h. "0" alone is accepted. Like Go,
 * there is no day unit: "7d" is an error that suggests "168h".
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 micro sign
  'μs': 1e-3, // U+03BC Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const GROUP = /(\d+\.?\d*|\.\d+)([^\d.]*)/y;

/** Parses a Go duration string into milliseconds (possibly fractional). Throws a RangeError naming the problem. */
export function parseDuration(text: string): number {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') invalid(text, 'expected a number followed by a unit (ns, us, ms, s, m, h), e.g. "168h" or "1h30m"');

  let total = 0;
  GROUP.lastIndex = 0;
  while (GROUP.lastIndex < rest.length) {
    const match = GROUP.exec(rest);
    if (match === null) invalid(text, 'expected a number followed by a unit (ns, us, ms, s, m, h), e.g. "168h" or "1h30m"');
    const [, digits = '', unit = ''] = match;
    if (unit === '') invalid(text, `missing unit after "${digits}" (use ns, us, ms, s, m or h)`);
    const factor = UNIT_MS[unit];
    if (factor === undefined) {
      const hint = unit === 'd' ? '; Go durations have no day unit, use hours (7 days = "168h")' : '';
      invalid(text, `unknown unit "${unit}" (use ns, us, ms, s, m or h)${hint}`);
    }
    total += Number(digits) * factor;
  }
  return sign * total;
}

function invalid(text: string, why: string): never {
  throw new RangeError(`invalid duration ${JSON.stringify(text)}: ${why}`);
}

/** Formats milliseconds as a Go duration that parseDuration reads back: 604800000 -> "168h", 5400000 -> "1h30m". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`cannot format ${ms} as a duration`);
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  let text = '';
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) text += `${count}${unit}`;
    rest -= count * size;
  }
  if (rest > 0) text += `${Number(rest.toPrecision(12))}ms`;
  return sign + text;
}
