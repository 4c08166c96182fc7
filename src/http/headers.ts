/** Parsing and formatting of the registry's HTTP headers: Range, Content-Range, Link, pagination. */
import type { ServerResponse } from 'node:http';
import { PaginationInvalidError } from '../registry/errors.ts';
import type { Page } from '../meta/store.ts';
import { HttpError } from './errors.ts';

export interface ByteRange {
  start: number;
  end: number;
}

/**
 * A `Range: bytes=a-b` request header against a blob of `size` bytes. Undefined when there is no
 * header or it is not one byte range (the whole blob is then served); HttpError 416 when it
 * cannot be satisfied.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined || size === 0) return undefined;
  // Another unit, several ranges or a malformed header are ignored: the whole blob is served (RFC 9110).
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null) return undefined;
  const [, a = '', b = ''] = m;
  let start: number;
  let end: number;
  if (a === '') {
    if (b === '') return undefined;
    const suffix = Number(b);
    if (suffix === 0) throw unsatisfiable(size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
    if (b !== '' && Number(b) < start) return undefined;
  }
  if (start >= size) throw unsatisfiable(size);
  return { start, end };
}

function unsatisfiable(size: number): HttpError {
  return new HttpError('RANGE_INVALID', 'requested range not satisfiable', undefined, { 'Content-Range': `bytes */${size}` });
}

/** A chunk's `Content-Range: <start>-<end>` (the upload protocol's form, `bytes ` prefix tolerated). */
export function parseContentRange(header: string | undefined): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const m = /^(?:bytes[= ])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (m === null) throw new HttpError('RANGE_INVALID', `invalid Content-Range ${JSON.stringify(header)}`);
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) throw new HttpError('RANGE_INVALID', `invalid Content-Range ${JSON.stringify(header)}`);
  return { start, end };
}

/** The `Range` header of an upload status: the bytes received so far, as `0-<last>`. */
export function uploadRange(size: number): string {
  return `0-${Math.max(0, size - 1)}`;
}

/** `n` and `last` query parameters; n above `max` is clamped (the Link header tells the rest). */
export function parsePage(query: URLSearchParams, max: number, defaultN?: number): Page {
  const rawN = query.get('n');
  const last = query.get('last') ?? undefined;
  let n = defaultN;
  if (rawN !== null && rawN !== '') {
    if (!/^\d+$/.test(rawN)) throw new PaginationInvalidError(`n must be a non-negative integer, got ${JSON.stringify(rawN)}`);
    n = Math.min(Number(rawN), max);
  }
  return { last, n };
}

/** Fetch one more than asked to learn whether a next page exists; set the Link header if so. */
export async function paginate(
  res: ServerResponse,
  path: string,
  page: Page,
  fetch: (page: Page) => Promise<string[]>,
): Promise<string[]> {
  if (page.n === undefined) return fetch(page);
  if (page.n === 0) return [];
  const rows = await fetch({ last: page.last, n: page.n + 1 });
  if (rows.length <= page.n) return rows;
  const items = rows.slice(0, page.n);
  const lastItem = items[items.length - 1] ?? '';
  const q = new URLSearchParams({ n: String(page.n), last: lastItem });
  res.setHeader('Link', `<${path}?${q.toString()}>; rel="next"`);
  return items;
}

/** Parsed Accept headers: clients send a handful of distinct ones, parsed on every manifest GET. */
const acceptedCache = new Map<string, ReadonlySet<string>>();
const ACCEPTED_CACHE_MAX = 256;
const ACCEPTED_CACHED_LENGTH = 1024;

/** Bare media types a client accepts (parameters and q-values dropped). */
export function acceptedTypes(header: string | string[] | undefined): ReadonlySet<string> {
  if (typeof header !== 'string' || header.length > ACCEPTED_CACHED_LENGTH) return parseAccepted(header === undefined ? [] : typeof header === 'string' ? [header] : header);
  let types = acceptedCache.get(header);
  if (types === undefined) {
    // many distinct headers (a hostile client) only make the cache start again: 256 KiB at most
    if (acceptedCache.size >= ACCEPTED_CACHE_MAX) acceptedCache.clear();
    types = parseAccepted([header]);
    acceptedCache.set(header, types);
  }
  return types;
}

function parseAccepted(values: readonly string[]): ReadonlySet<string> {
  const out = new Set<string>();
  for (const value of values) {
    for (const part of value.split(',')) {
      const t = part.split(';')[0]?.trim().toLowerCase();
      if (t) out.add(t);
    }
  }
  return out;
}
