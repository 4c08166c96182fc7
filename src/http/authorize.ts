/**
 * Authorisation before the handler runs, on the HTTP side: every route declares what it needs
 * (REQUIREMENTS, /v2/ and /api/ alike), the request's credentials are read off it, and the one
 * decision of auth/authorizer.ts is written back: the caller's principal on the context, or a
 * challenge or denial. Denials follow Docker's token authentication: an anonymous caller, or a
 * bearer token that lacks the scope, gets 401 with a `WWW-Authenticate` challenge naming the scope
 * to ask for; a logged-in user (Basic, session) without the right gets 403 DENIED. A private
 * repository and a missing one look alike.
 *
 * The hot path (a valid bearer token) costs map lookups: the token's verification is cached, its
 * user's existence too, and its `access` claim is checked without touching the account store.
 */
import type { App, RequestContext } from './context.ts';
import { HttpError } from './errors.ts';
import type { Method, RouteName } from './routes.ts';
import { paths } from './routes.ts';
import type { Need } from '../auth/authorizer.ts';
import type { AccessControl } from '../auth/access-control.ts';
import { refuseCrossSite, sessionUser } from './session.ts';
import { clientAddress } from './client-address.ts';
import { isValidName } from '../registry/reference.ts';

type Requirement = Need | Partial<Record<Method, Need>>;

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
  // The account API: a user by password, access token or web session (never a bearer token).
  'api-me': 'account',
  'api-users': 'account',
  'api-user': 'account',
  'api-tokens': 'account',
  'api-token': 'account',
  'api-orgs': 'account',
  'api-org': 'account',
  'api-org-member': 'account',
  'api-teams': 'account',
  'api-team': 'account',
  'api-team-member': 'account',
  'api-team-permissions': 'account',
  // Anyone may read a public repository's settings; descriptions need push, visibility (checked by the
  // AccountService, for a bearer token within its scopes) and deleting the repository need delete.
  'api-repository': { GET: 'optional', PATCH: 'push', DELETE: 'delete' },
  // Discovery: anyone may search (answers are filtered by what the caller may pull).
  'v1-ping': 'none',
  'v1-search': 'search',
  'api-search': 'optional',
  // Starring needs pull there (a bearer token holds it for that repository).
  'api-repository-star': 'pull',
  // The web UI's content views: the registry's own rights on the repository.
  'api-repository-tags': 'pull',
  'api-repository-tag': 'delete',
  'api-repository-manifest': 'pull',
  // Retention: a repository's policy and dry run for its administrators; which pattern a signed-in
  // user may edit or preview is decided by RetentionService.mayEdit (the whole registry: administrators).
  'api-repository-retention': 'delete',
  'api-retention-policies': 'account',
  'api-retention-preview': 'account',
  // Builds: whoever may pull sees them and their logs; whoever may push builds by hand or stops one;
  // the rules (Git URLs, credentials, the webhook) are the repository's administrators'. The webhook
  // carries no login: its signature is checked against the rule's secret (builds/hooks.ts).
  'api-repository-builds': { GET: 'pull', POST: 'push' },
  'api-repository-build': { GET: 'pull', DELETE: 'push' },
  'api-repository-build-log': 'pull',
  'api-repository-build-rules': 'delete',
  'api-repository-build-rule': 'delete',
  'api-build-hook': 'none',
  'api-build-badge': 'pull',
  // Who is signed in (optional); signing in and out read the credentials and cookie themselves.
  'api-session': { GET: 'optional', POST: 'none', DELETE: 'none' },
  'api-admin-storage': 'admin',
  'api-admin-immutable': 'admin',
  'api-admin-quotas': 'admin',
  // members read their namespace's usage (the handler checks), administrators set limits
  'api-namespace-quota': { GET: 'account', PUT: 'admin', DELETE: 'admin' },
  'api-admin-gc': 'admin',
  // Replication copies between registries with the rules' credentials: administrators only.
  'api-replication': 'admin',
  'api-replication-rule': 'admin',
  'api-replication-trigger': 'admin',
  'api-replication-runs': 'admin',
};

/** Routes that create content in a repository: the repository is claimed (visibility, quota) before them. */
const CREATING: ReadonlySet<string> = new Set(['upload-start', 'manifest:PUT']);

function requirementOf(route: RouteName, method: Method): Need {
  const r = REQUIREMENTS[route];
  return typeof r === 'string' ? r : (r[method] ?? 'admin');
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

/** Authorise the matched route; throws the challenge or denial. Sets ctx.principal (and ctx.token). */
export async function authorize(ctx: RequestContext, app: App, method: Method): Promise<void> {
  refuseCrossSite(ctx);
  const access = app.access;
  if (access === undefined || !(await access.enabled())) {
    ctx.unrestricted = true;
    return;
  }
  if (ctx.route === 'unknown' || ctx.route === 'ui') return;
  const need = requirementOf(ctx.route, method);
  // A mount's source, when it is a repository name at all (it is named in the challenge).
  const from = ctx.route === 'upload-start' && ctx.query.has('mount') ? ctx.query.get('from') : null;
  const mountFrom = from !== null && isValidName(from) ? from : null;
  const decision = await access.authorizer.authorize(
    { authorization: ctx.req.headers.authorization, session: () => sessionUser(ctx, access), address: clientAddress(ctx.req) },
    { need, name: ctx.name, ...(mountFrom !== null && { mountFrom }) },
  );
  switch (decision.kind) {
    case 'challenge':
      throw challenge(ctx, access, decision.scope, decision.error, decision.message);
    case 'deny':
      throw new HttpError('DENIED', decision.message, decision.scope === undefined ? undefined : { scope: decision.scope });
  }
  ctx.principal = decision.principal;
  if (decision.token !== undefined) ctx.token = decision.token;
  if (CREATING.has(ctx.route) || CREATING.has(`${ctx.route}:${method}`)) await access.policy.claimForPush(ctx.name);
  // A mount from a repository the caller may not pull, or without `from` (it would take the blob
  // from any repository, private ones included), is not tried: a plain upload starts.
  if (ctx.route === 'upload-start' && ctx.query.has('mount') && !decision.mount) {
    ctx.query.delete('from');
    ctx.query.delete('mount');
  }
}
