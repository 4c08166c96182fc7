/**
 * Query parameters of the JSON API, read and checked in one place: a bad value is a 400
 * REQUEST_INVALID naming the parameter and what it accepts, an absent or empty one its default.
 * Pages follow Docker Hub: `page` from 1, `per_page` 25 unless asked, at most 100.
 */
import type { RequestContext } from '../context.ts';
import { HttpError } from '../errors.ts';

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

/** A non-negative integer, clamped to [min, max]. */
export function integerParam(ctx: RequestContext, key: string, fallback: number, min: number, max: number): number {
  const raw = ctx.query.get(key);
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new HttpError('REQUEST_INVALID', `${key} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return Math.min(Math.max(Number(raw), min), max);
}

export function booleanParam(ctx: RequestContext, key: string): boolean | undefined {
  const raw = ctx.query.get(key);
  if (raw === null || raw === '') return undefined;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new HttpError('REQUEST_INVALID', `${key} must be true or false, got ${JSON.stringify(raw)}`);
}

/** One of `values`. */
export function choiceParam<T extends string>(ctx: RequestContext, key: string, values: readonly T[], fallback: T): T {
  const raw = ctx.query.get(key);
  if (raw === null || raw === '') return fallback;
  if (!(values as readonly string[]).includes(raw)) throw new HttpError('REQUEST_INVALID', `${key} must be one of ${values.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

/** Free text of at most `max` characters; '' when absent. */
export function textParam(ctx: RequestContext, key: string, max: number): string {
  const value = ctx.query.get(key) ?? '';
  if (value.length > max) throw new HttpError('REQUEST_INVALID', `${key} is limited to ${max} characters`);
  return value;
}

export interface PageParams {
  page: number;
  size: number;
  offset: number;
}

/** `page` and the page size (`per_page`, or `n` for Docker's v1 search). */
export function pageParams(ctx: RequestContext, sizeKey = 'per_page'): PageParams {
  const size = integerParam(ctx, sizeKey, DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE);
  const page = integerParam(ctx, 'page', 1, 1, Number.MAX_SAFE_INTEGER);
  return { page, size, offset: (page - 1) * size };
}

/** The paging fields of an answer: `{ total, page, perPage, pages }`. */
export function pageJson(total: number, { page, size }: PageParams): { total: number; page: number; perPage: number; pages: number } {
  return { total, page, perPage: size, pages: Math.ceil(total / size) };
}
