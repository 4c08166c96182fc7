/**
 * What the management API's handlers share: the caller (authenticated and authorised before the
 * handler runs, by the route's need in http/authorize.ts), JSON bodies read under a size limit and
 * checked with a zod schema, and the JSON shapes of the answers.
 */
import { describeIssues } from '../../config/zod-issues.ts';
import { z } from 'zod';
import type { App, RequestContext } from '../context.ts';
import { HttpError } from '../errors.ts';
import { readBody } from '../body.ts';
import { challenge } from '../authorize.ts';
import type { AccessControl } from '../../auth/access-control.ts';
import type { Principal } from '../../auth/principal.ts';
import type { TokenRecord } from '../../auth/store.ts';

/** The largest JSON body the management API reads. */
export const MAX_API_BODY_BYTES = 64 * 1024;

export interface Caller {
  access: AccessControl;
  actor: Principal;
}

/** Accounts and access control; 404 on a registry built without them. */
export function accessOf(app: App): AccessControl {
  if (app.access === undefined) throw new HttpError('NOT_FOUND', 'this registry has no accounts');
  return app.access;
}

/**
 * The caller, as authorize() found them. With no users yet (ctx.unrestricted) every caller is
 * anonymous here, so nobody creates accounts without logging in (the first admin comes from
 * `berth user add`).
 */
export function caller(ctx: RequestContext, app: App): Caller {
  return { access: accessOf(app), actor: ctx.principal };
}

/** The caller, who must have logged in: anonymous callers get the 401 challenge. */
export function loggedIn(ctx: RequestContext, app: App): Caller {
  const c = caller(ctx, app);
  if (c.actor.kind === 'anonymous') throw challenge(ctx, c.access, undefined, undefined, 'log in to use the management API');
  return c;
}

/** A route parameter the route pattern guarantees. */
export function param(ctx: RequestContext, key: string): string {
  const value = ctx.params[key];
  if (value === undefined) throw new Error(`route ${ctx.route} has no parameter ${key}`);
  return value;
}

/** Read the JSON body (Content-Type: application/json) and check it against `schema`; an empty body reads as `{}`. */
export async function readJson<T>(ctx: RequestContext, schema: z.ZodType<T>): Promise<T> {
  const raw = await readBody(ctx.req, MAX_API_BODY_BYTES);
  if (raw === undefined) throw new HttpError('SIZE_EXCEEDED', `management API bodies are limited to ${MAX_API_BODY_BYTES} bytes`);
  let value: unknown = {};
  // JSON only: a cross-site form or `fetch` without CORS can send text/plain, never application/json.
  const type = ctx.req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (raw.length > 0 && type !== 'application/json') throw new HttpError('REQUEST_INVALID', 'send the body as Content-Type: application/json');
  if (raw.length > 0) {
    try {
      value = JSON.parse(raw.toString('utf8'), (_key, v: unknown) => {
        // no text berth keeps may hold NUL (PostgreSQL cannot store it): refuse it here, for every field
        if (typeof v === 'string' && v.includes('\0')) throw new SyntaxError('a string holds a NUL character (\\u0000)');
        return v;
      });
    } catch (err) {
      throw new HttpError('REQUEST_INVALID', `the body is not JSON: ${(err as Error).message}`);
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HttpError('REQUEST_INVALID', `invalid body: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** An epoch-milliseconds time as ISO 8601; null for none (0 is "not recorded"). */
export function iso(ms: number | null): string | null {
  return ms === null || ms === 0 ? null : new Date(ms).toISOString();
}

/** A token as the API shows it: never its secret (which is not stored anyway). */
export function tokenJson(t: TokenRecord): Record<string, unknown> {
  return {
    id: t.id,
    name: t.name,
    kind: t.kind,
    scopes: t.scopes,
    createdAt: iso(t.createdAt),
    expiresAt: iso(t.expiresAt),
    lastUsedAt: iso(t.lastUsedAt),
  };
}
