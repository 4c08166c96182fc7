/**
 * Sizes in bytes as people write them in a config file or an API body: a whole number of bytes
 * (`1073741824`), or a number and a unit, binary (`10GiB`, `512MiB`, 1024-based: KiB MiB GiB TiB
 * PiB) or decimal (`10GB`, 1000-based: kB KB MB GB TB PB), with an optional space and `B` alone
 * for bytes. Case-insensitive units; a fraction is allowed with a unit (`1.5GiB`) and rounded down.
 */

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  pb: 1e15,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
  pib: 2 ** 50,
};

/** Bytes of a size; throws a RangeError naming what is wrong. */
export function parseSize(text: string | number): number {
  if (typeof text === 'number') {
    if (Number.isSafeInteger(text) && text >= 0) return text;
    throw new RangeError(`${text}: a size in bytes is a whole number, 0 or more`);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = UNITS[(m?.[2] || 'b').toLowerCase()];
  if (m === null || unit === undefined || (unit === 1 && m[1]?.includes('.') === true)) {
    throw new RangeError(`${JSON.stringify(text)} is not a size: a number of bytes, or a number and a unit (KiB, MiB, GiB, TiB, or kB, MB, GB, TB)`);
  }
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new RangeError(`${JSON.stringify(text)} is too large`);
  return bytes;
}

/** Bytes for people: `973 B`, `1.5 KiB`, `10 GiB` (one decimal, none when whole). */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = unit === 0 ? String(value) : (Math.floor(value * 10) / 10).toFixed(1).replace(/\.0$/, '');
  return `${shown} ${units[unit]}`;
}
