/**
 * Authorisation before the handler runs: who the caller is (Basic credentials, a bearer token
 * from the token server, or nobody) and whether the route's access is granted. Denials follow
 * Docker's token authentication: an anonymous caller, or a bearer token that lacks the scope,
 * gets 401 with a `WWW-Authenticate` challenge naming the scope to ask for; a logged-in user
 * (Basic) without the right gets 403 DENIED. A private repository and a missing one look alike.
 *
 * The hot path (a valid bearer token) costs a map lookup: the token's verification is cached and
 * its `access` claim is checked without touching the account store.
 */
import type { IncomingMessage } from 'node:http';
import type { App, RequestContext } from './context.ts';
import { HttpError } from './errors.ts';
import type { Method, RouteName } from './routes.ts';
import { paths } from './routes.ts';
import { ANONYMOUS, isAdmin, type Principal } from '../auth/principal.ts';
import { AuthenticationError } from '../auth/errors.ts';
import { parseScope, type RepositoryAction, type Scope } from '../auth/scope.ts';
import { resourceKey } from '../auth/jwt.ts';
import type { AccessControl } from '../auth/access-control.ts';
import { refuseCrossSite, sessionUser } from './session.ts';

/** What a route needs: nothing, any logged-in caller, an admin, the catalog, or an action on the repository. */
type Need = 'none' | 'login' | 'admin' | 'catalog' | RepositoryAction;
type Requirement = Need | Partial<Record<Method, RepositoryAction>>;

/** Every route says what it needs (the type makes a new route declare it). */
const REQUIREMENTS: Record<RouteName, Requirement> = {
  base: 'login',
  catalog: 'catalog',
  tags: 'pull',
  manifest: { GET: 'pull', HEAD: 'pull', PUT: 'push', DELETE: 'delete' },
  'upload-start': 'push',
  upload: 'push',
  blob: { GET: 'pull', HEAD: 'pull', DELETE: 'delete' },
  referrers: 'pull',
  events: 'admin',
  mirror: 'admin',
  token: 'none',
  jwks: 'none',
  // The management API authenticates in its handlers (handlers/api-common.ts) and lets the AccountService decide.
  'api-me': 'none',
  'api-users': 'none',
  'api-user': 'none',
  'api-tokens': 'none',
  'api-token': 'none',
  'api-orgs': 'none',
  'api-org': 'none',
  'api-org-member': 'none',
  'api-teams': 'none',
  'api-team': 'none',
  'api-team-member': 'none',
  'api-team-permissions': 'none',
  'api-repository': 'none',
  // Discovery: anyone may search (answers are filtered by what the caller may pull); handlers/search.ts authenticates.
  'v1-ping': 'none',
  'v1-search': 'none',
  'api-search': 'none',
  'api-repository-star': 'none',
  // The web UI's content views: the registry's own rights on the repository.
  'api-repository-tags': 'pull',
  'api-repository-tag': 'delete',
  'api-repository-manifest': 'pull',
  'api-session': 'none',
  'api-admin-storage': 'admin',
};

/** Routes that create content in a repository: the repository is claimed (visibility, quota) before them. */
const CREATING: ReadonlySet<string> = new Set(['upload-start', 'manifest:PUT']);

function requirementOf(route: RouteName, method: Method): Need {
  const r = REQUIREMENTS[route];
  return typeof r === 'string' ? r : (r[method] ?? 'admin');
}

export function clientAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? '';
}

/** Decode `Authorization: Basic`; undefined when it is not well-formed. */
export function parseBasic(value: string): { user: string; password: string } | undefined {
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** The absolute URL of the token endpoint for this request. */
function tokenRealm(ctx: RequestContext, access: AccessControl): string {
  if (access.challenge.realm !== undefined) return access.challenge.realm;
  const url = ctx.url(paths.token());
  if (/^https?:\/\//.test(url)) return url;
  const host = ctx.req.headers['x-forwarded-host'] ?? ctx.req.headers.host ?? 'localhost';
  const proto = (ctx.req.headers['x-forwarded-proto'] as string | undefined)?.split(',')[0]?.trim() || ('encrypted' in ctx.req.socket ? 'https' : 'http');
  return `${proto}://${Array.isArray(host) ? host[0] : host}${url}`;
}

/** A 401 with the challenge a client follows to get a token for `scope`. */
export function challenge(ctx: RequestContext, access: AccessControl, scope?: string, error?: string, message?: string): HttpError {
  const c = access.challenge;
  let header: string;
  if (c.scheme === 'basic') header = `Basic realm=${quote(c.realm ?? c.service)}`;
  else {
    header = `Bearer realm=${quote(tokenRealm(ctx, access))},service=${quote(c.service)}`;
    if (scope !== undefined) header += `,scope=${quote(scope)}`;
    if (error !== undefined) header += `,error=${quote(error)}`;
  }
  const detail = scope === undefined ? undefined : { scope };
  return new HttpError('UNAUTHORIZED', message, detail, { 'WWW-Authenticate': header });
}

/** Who the request's credentials name; throws a challenge for bad ones. */
export async function authenticate(ctx: RequestContext, access: AccessControl): Promise<Principal> {
  const header = ctx.req.headers.authorization;
  if (header === undefined || header === '') return (await sessionUser(ctx, access)) ?? ANONYMOUS;
  const trimmed = header.trim();
  const space = trimmed.indexOf(' ');
  const scheme = (space === -1 ? trimmed : trimmed.slice(0, space)).toLowerCase();
  const value = space === -1 ? '' : trimmed.slice(space + 1).trim();
  try {
    if (scheme === 'bearer') {
      ctx.token = await access.tokens.verify(value);
      const subject = ctx.token.subject;
      return subject === '' ? ANONYMOUS : { kind: 'user', name: subject, admin: false, via: 'bearer' };
    }
    if (scheme === 'basic') {
      const creds = parseBasic(value);
      if (creds === undefined) throw new AuthenticationError('malformed Basic credentials');
      return await access.authenticator.login(creds.user, creds.password, clientAddress(ctx.req));
    }
  } catch (err) {
    if (err instanceof AuthenticationError) {
      // Password failures are counted by the authenticator; a bad token is counted here.
      if (scheme === 'bearer') access.failed();
      throw challenge(ctx, access, undefined, scheme === 'bearer' ? 'invalid_token' : undefined, err.message);
    }
    throw err;
  }
  throw challenge(ctx, access, undefined, undefined, `unsupported authorization scheme ${scheme}`);
}

/**
 * The principal with its real rights: a bearer token names its subject only, so for the routes
 * that filter or manage by identity (catalog, admin), the user is looked up.
 */
export async function resolvePrincipal(ctx: RequestContext, access: AccessControl): Promise<Principal> {
  const p = ctx.principal;
  if (p.kind !== 'user' || p.via !== 'bearer') return p;
  const stored = await access.store.getUser(p.name);
  // htpasswd users (distribution's mode) are not in the store and may do everything.
  const user = stored ?? (access.authenticator.isHtpasswdUser(p.name) ? { name: p.name, admin: true } : undefined);
  // A token issued for a scoped access token keeps that token's limits (not the user's full rights).
  const restrict = ctx.token?.restrict === undefined ? undefined : restrictionOf(ctx.token.restrict);
  ctx.principal = user === undefined ? ANONYMOUS : { kind: 'user', name: user.name, admin: user.admin, via: 'bearer', ...(restrict && { restrict }) };
  return ctx.principal;
}

/** The scopes of a restricted token's claim; one that does not parse (it never should: we signed it) allows nothing. */
function restrictionOf(scopes: readonly string[]): Scope[] {
  return scopes.flatMap((s) => {
    try {
      return [parseScope(s, true)];
    } catch {
      return [];
    }
  });
}

function deny(ctx: RequestContext, access: AccessControl, scope: string, message?: string): HttpError {
  if (ctx.principal.kind === 'anonymous') return challenge(ctx, access, scope, undefined, message);
  if (ctx.token !== undefined) return challenge(ctx, access, scope, 'insufficient_scope', message ?? 'insufficient scope');
  return new HttpError('DENIED', message, { scope });
}

async function mayDo(ctx: RequestContext, access: AccessControl, name: string, action: RepositoryAction): Promise<boolean> {
  if (ctx.token !== undefined) return ctx.token.access.get(resourceKey('repository', name))?.has(action) === true;
  return (await access.policy.repositoryActions(ctx.principal, name)).has(action);
}

/** Authorise the matched route; throws the challenge or denial. Sets ctx.principal. */
export async function authorize(ctx: RequestContext, app: App, method: Method): Promise<void> {
  refuseCrossSite(ctx);
  const access = app.access;
  if (access === undefined || !(await access.enabled())) {
    ctx.unrestricted = true;
    return;
  }
  if (ctx.route === 'unknown') return;
  const need = requirementOf(ctx.route, method);
  if (need === 'none') return;
  ctx.principal = await authenticate(ctx, access);
  switch (need) {
    case 'login':
      if (ctx.principal.kind === 'anonymous') throw challenge(ctx, access);
      return;
    case 'admin':
      if (!isAdmin(await resolvePrincipal(ctx, access))) throw ctx.principal.kind === 'anonymous' ? challenge(ctx, access) : new HttpError('DENIED');
      // A bearer token grants its scopes only, and no scope names administration.
      if (ctx.token !== undefined) throw new HttpError('DENIED', 'administration needs a password, an access token or a web session, not a bearer token');
      return;
    case 'catalog':
      // Always through a challenge, so that a client with credentials sends them; an anonymous token lists what is public.
      if (ctx.token === undefined && ctx.principal.kind === 'anonymous') throw challenge(ctx, access, 'registry:catalog:*');
      if (ctx.token !== undefined && ctx.token.access.get(resourceKey('registry', 'catalog'))?.has('*') !== true) {
        throw challenge(ctx, access, 'registry:catalog:*', 'insufficient_scope');
      }
      await resolvePrincipal(ctx, access);
      return;
  }
  const name = ctx.name;
  const actions = need === 'push' ? 'pull,push' : need;
  if (!(await mayDo(ctx, access, name, need))) throw deny(ctx, access, `repository:${name}:${actions}`);
  if (CREATING.has(ctx.route) || CREATING.has(`${ctx.route}:${method}`)) {
    await access.policy.claimForPush(name);
  }
  // A cross-repository mount needs pull on the source; without it the mount is not tried (a plain upload starts).
  // A mount without `from` would take the blob from any repository, private ones included: never tried here.
  const from = ctx.query.get('from');
  if (ctx.route === 'upload-start' && ctx.query.has('mount') && (from === null || !(await mayDo(ctx, access, from, 'pull')))) {
    ctx.query.delete('from');
    ctx.query.delete('mount');
  }
}
