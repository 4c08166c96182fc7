/**
 * Browser sessions for the web UI:
 *   GET /api/v1/session      who is signed in ({user} or null), the session's CSRF token, and
 *                            whether access control is on (an open registry has nobody to sign in)
 *   POST /api/v1/session     {username, password}: sign in; sets the HttpOnly session cookie
 *   DELETE /api/v1/session   sign out (with the CSRF token); clears the cookie
 * Sign-in goes through the same authenticator as `docker login` (throttling included) but answers
 * a plain 401 without a challenge: a form, not a protocol, is asking.
 */
import { z } from 'zod';
import type { Handler, RequestContext } from '../context.ts';
import { HttpError } from '../errors.ts';
import { sendEmpty, sendJson } from './json.ts';
import { accessOf, caller, readJson } from './api-common.ts';
import { clientAddress } from '../client-address.ts';
import { clearSessionCookie, sessionSecret, sessionUser, setSessionCookie } from '../session.ts';
import { AuthenticationError } from '../../auth/errors.ts';
import type { Principal } from '../../auth/principal.ts';
import { csrfToken } from '../../auth/sessions.ts';
import type { AccessControl } from '../../auth/access-control.ts';

const SignIn = z.strictObject({ username: z.string().min(1).max(256), password: z.string().min(1).max(1024) });

/** "Chrome on Linux" from a User-Agent, to tell sessions apart in the token list. */
export function browserName(userAgent: string | undefined): string {
  const ua = userAgent ?? '';
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'a browser';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Windows/.test(ua) ? 'Windows' : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '';
  return os === '' ? browser : `${browser} on ${os}`;
}

async function userJson(access: AccessControl, actor: Principal): Promise<Record<string, unknown> | null> {
  if (actor.kind !== 'user') return null;
  const stored = await access.store.getUser(actor.name);
  const orgs = stored === undefined ? [] : await access.store.orgsOf(actor.name);
  return { name: actor.name, admin: stored?.admin ?? actor.admin, orgs };
}

/** Open a session for a user who proved their password, and set its cookie; the CSRF token for the page. */
export async function startSession(ctx: RequestContext, access: AccessControl, user: Extract<Principal, { kind: 'user' }>): Promise<string> {
  const session = await access.sessions.start(user, browserName(ctx.req.headers['user-agent']));
  setSessionCookie(ctx, session.secret, session.expiresAt);
  return session.csrfToken;
}

/** GET /api/v1/session */
export const getSession: Handler = async (ctx, app) => {
  const access = accessOf(app);
  const secret = sessionSecret(ctx.req);
  const { actor } = caller(ctx, app);
  const bySession = actor.kind === 'user' && actor.via === 'session';
  if (secret !== undefined && !bySession) clearSessionCookie(ctx);
  ctx.res.setHeader('Cache-Control', 'no-store');
  sendJson(ctx.res, 200, {
    user: await userJson(access, actor),
    csrfToken: bySession && secret !== undefined ? csrfToken(secret) : null,
    accessControl: await access.enabled(),
  });
};

/** POST /api/v1/session */
export const postSession: Handler = async (ctx, app) => {
  const access = accessOf(app);
  const body = await readJson(ctx, SignIn);
  if (!(await access.enabled())) throw new HttpError('UNSUPPORTED', 'this registry is open (no users yet): create the first administrator with `berth user add NAME --admin`');
  let user;
  try {
    user = await access.authenticator.login(body.username, body.password, clientAddress(ctx.req));
  } catch (err) {
    if (err instanceof AuthenticationError) throw new HttpError('UNAUTHORIZED', 'Wrong username or password.');
    throw err;
  }
  // Signing in again (another user, or the same) ends the session this browser had.
  const previous = sessionSecret(ctx.req);
  if (previous !== undefined) await access.sessions.end(previous);
  const csrf = await startSession(ctx, access, user);
  ctx.log.info({ user: user.name }, 'web sign-in');
  ctx.res.setHeader('Cache-Control', 'no-store');
  sendJson(ctx.res, 200, { user: await userJson(access, user), csrfToken: csrf });
};

/** DELETE /api/v1/session */
export const deleteSession: Handler = async (ctx, app) => {
  const access = accessOf(app);
  const secret = sessionSecret(ctx.req);
  // A live session is ended only with its CSRF token (sessionUser refuses otherwise).
  if (secret !== undefined && (await sessionUser(ctx, access)) !== undefined) await access.sessions.end(secret);
  clearSessionCookie(ctx);
  sendEmpty(ctx.res, 204);
};
