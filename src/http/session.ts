/**
 * The web UI's session cookie on the HTTP side: read and written here, resolved by the auth
 * domain (auth/sessions.ts). Only the JSON API under /api/ accepts it — the registry API (/v2/,
 * /auth/token) keeps its own authentication. A request that changes something with the cookie
 * must carry the session's CSRF token in `X-CSRF-Token`; before that, any change from another
 * site's page is refused (refuseCrossSite); SameSite=Strict keeps the cookie off cross-site
 * requests as well.
 */
import type { IncomingMessage } from 'node:http';
import type { RequestContext } from './context.ts';
import { API_ROUTES, type ServedAs } from './routes.ts';
import { HttpError } from './errors.ts';
import type { AccessControl } from '../auth/access-control.ts';
import type { UserPrincipal } from '../auth/authenticator.ts';
import { csrfMatches } from '../auth/sessions.ts';
import { httpOptionsOf, isSecure } from './client-address.ts';

export const SESSION_COOKIE = 'berth_session';
/**
 * Over HTTPS at the root path the cookie is `__Host-berth_session`: browsers then only accept it
 * Secure, for this exact host and path `/`, so a sibling subdomain cannot plant a session of its own.
 */
export const HOST_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Routes of the JSON API (under /api/): the ones a session may call. */
export function acceptsSession(route: ServedAs): boolean {
  return route !== 'unknown' && route !== 'ui' && API_ROUTES.has(route);
}

/**
 * The session secret the request's cookie carries, if any. Where the cookie is set as
 * `__Host-berth_session` (HTTPS at the root path), only that name is read: a plain `berth_session`
 * there was set by someone else (a sibling subdomain's `Domain=` cookie, or a plain-HTTP answer
 * forged on the network) and must not pick the session, whether or not the browser also sends
 * ours. Elsewhere (plain HTTP, or under http.prefix) `__Host-` still wins when present.
 */
export function sessionSecret(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  const plainCounts = !(isSecure(req) && (httpOptionsOf(req)?.prefix ?? '') === '');
  let plain: string | undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    const name = eq === -1 ? '' : part.slice(0, eq).trim();
    if (name === HOST_SESSION_COOKIE) return part.slice(eq + 1).trim() || undefined;
    if (name === SESSION_COOKIE && plainCounts) plain ??= part.slice(eq + 1).trim() || undefined;
  }
  return plain;
}

function cookie(ctx: RequestContext, value: string, maxAgeSec: number): string {
  const path = ctx.path('/');
  const secure = isSecure(ctx.req);
  const name = secure && path === '/' ? HOST_SESSION_COOKIE : SESSION_COOKIE;
  const attributes = [`${name}=${value}`, `Path=${path}`, `Max-Age=${maxAgeSec}`, 'HttpOnly', 'SameSite=Strict'];
  if (secure) attributes.push('Secure');
  return attributes.join('; ');
}

export function setSessionCookie(ctx: RequestContext, secret: string, expiresAt: number): void {
  ctx.res.setHeader('Set-Cookie', cookie(ctx, secret, Math.max(1, Math.floor((expiresAt - Date.now()) / 1000))));
}

export function clearSessionCookie(ctx: RequestContext): void {
  ctx.res.setHeader('Set-Cookie', cookie(ctx, '', 0));
}

/** The host names this registry answers as: Host, X-Forwarded-Host, and http.host when configured. */
function ownHosts(ctx: RequestContext): Set<string> {
  const hosts = new Set<string>();
  const forwarded = ctx.req.headers['x-forwarded-host'];
  for (const h of [ctx.req.headers.host, ...(Array.isArray(forwarded) ? forwarded : [forwarded])]) if (h !== undefined) hosts.add(h.split(',')[0]?.trim() ?? '');
  const configured = ctx.url('/');
  if (/^https?:\/\//.test(configured)) hosts.add(new URL(configured).host);
  return hosts;
}

/**
 * A change asked of the JSON API by another site's page is refused before anything else, in every
 * mode (an open registry has no session to protect, but its API must not be a cross-site target):
 * by the browser's Sec-Fetch-Site, and by an Origin that is not this registry. Scripts and the CLI
 * send neither header.
 */
export function refuseCrossSite(ctx: RequestContext): void {
  if (SAFE_METHODS.has(ctx.req.method ?? 'GET') || !acceptsSession(ctx.route)) return;
  const site = ctx.req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new HttpError('DENIED', `a ${site} request may not change anything here`);
  const origin = ctx.req.headers.origin;
  if (origin === undefined) return;
  let host: string | undefined;
  try {
    host = origin === 'null' ? undefined : new URL(origin).host;
  } catch {
    host = undefined;
  }
  if (host === undefined || !ownHosts(ctx).has(host)) throw new HttpError('DENIED', `cross-origin request from ${origin} refused`);
}

/**
 * The user of the request's session cookie, on the routes that accept it; undefined when there
 * is none or it ended. Changes need the CSRF token (DENIED without it).
 */
export async function sessionUser(ctx: RequestContext, access: AccessControl): Promise<UserPrincipal | undefined> {
  if (!acceptsSession(ctx.route)) return undefined;
  const secret = sessionSecret(ctx.req);
  if (secret === undefined) return undefined;
  const user = await access.sessions.resolve(secret);
  if (user === undefined) return undefined;
  if (!SAFE_METHODS.has(ctx.req.method ?? 'GET')) {
    const header = ctx.req.headers['x-csrf-token'];
    if (!csrfMatches(secret, Array.isArray(header) ? header[0] : header)) {
      throw new HttpError('DENIED', 'the CSRF token is missing or wrong: reload the page and try again');
    }
  }
  return user;
}

