/**
 * The one place that decides who may call what: every route declares what it needs (the
 * requirements table in http/authorize.ts, /v2/ and /api/ alike), and `authorize` answers a grant
 * with the caller's principal, a challenge (401: log in, or get a token with this scope) or a
 * denial (403). The HTTP layer only reads credentials off the request and writes the answer.
 *
 * A bearer token from the token server grants only what its scopes name: its principal is its
 * user cut down to the token's repository scopes (the registry:catalog scope lists what the user
 * may pull), it never reaches the account API or administration, and it stops working as soon as
 * its user is deleted (checked at cache cost: AccessControl.currentUser). Basic credentials (a
 * password or an access token, itself possibly scoped) and web sessions carry the user's rights.
 */
import { ANONYMOUS, isAdmin, type Principal } from './principal.ts';
import { AuthenticationError } from './errors.ts';
import { parseScope, REPOSITORY_ACTIONS, type RepositoryAction, type Scope } from './scope.ts';
import { resourceKey, type VerifiedToken } from './jwt.ts';
import type { AccessControl } from './access-control.ts';
import type { UserPrincipal } from './authenticator.ts';

/**
 * What a route needs: nothing ('none': the handler authenticates, as the token server does);
 * whoever calls ('optional': anonymous callers too, with what they may see); any logged-in caller
 * ('login'); a user by password, access token or web session, never a bearer token ('account':
 * the account API); an administrator; the catalog or search scope; or an action on the repository.
 */
export type Need = 'none' | 'optional' | 'login' | 'account' | 'admin' | 'catalog' | 'search' | RepositoryAction;

/** What the request carries, read off it by the HTTP layer. */
export interface Credentials {
  /** The Authorization header, if any. */
  authorization: string | undefined;
  /** The user of the request's web session, on the routes that accept one (checks its CSRF token). */
  session: () => Promise<UserPrincipal | undefined>;
  /** The client's address (login throttling). */
  address: string;
}

export interface AccessRequest {
  need: Need;
  /** The repository the route acts on ('' for none). */
  name: string;
  /** The source of a cross-repository mount (`from`), when one is asked. */
  mountFrom?: string;
}

export type Decision =
  | {
      kind: 'grant';
      principal: Principal;
      token?: VerifiedToken;
      /** A cross-repository mount may take its blob from `mountFrom` (the caller may pull it). */
      mount: boolean;
    }
  | { kind: 'challenge'; scope?: string; error?: 'invalid_token' | 'insufficient_scope'; message?: string }
  | { kind: 'deny'; scope?: string; message?: string };

interface Caller {
  principal: Principal;
  token?: VerifiedToken;
}

const grant = (c: Caller, mount = false): Decision => ({ kind: 'grant', principal: c.principal, ...(c.token && { token: c.token }), mount });

/** The repository scopes a token holds, as a restriction of its user's rights. */
function tokenScopes(token: VerifiedToken): Scope[] {
  const scopes: Scope[] = [];
  for (const [key, actions] of token.access) {
    if (!key.startsWith('repository:')) continue;
    const granted = REPOSITORY_ACTIONS.filter((a) => actions.has(a));
    scopes.push({ type: 'repository', name: key.slice('repository:'.length), actions: granted });
  }
  return scopes;
}

function holds(token: VerifiedToken, type: string, name: string, action: string): boolean {
  return token.access.get(resourceKey(type, name))?.has(action) === true;
}

export class Authorizer {
  constructor(private readonly access: AccessControl) {}

  async authorize(credentials: Credentials, request: AccessRequest): Promise<Decision> {
    const { need, name } = request;
    // The route authenticates by itself (the token server reads Basic credentials of its own).
    if (need === 'none') return { kind: 'grant', principal: ANONYMOUS, mount: false };
    let caller: Caller;
    try {
      caller = await this.authenticate(credentials, need);
    } catch (err) {
      if (!(err instanceof AuthenticationError)) throw err;
      const bearer = /^\s*bearer\b/i.test(credentials.authorization ?? '');
      if (bearer) this.access.failed();
      return { kind: 'challenge', message: err.message, ...(bearer && { error: 'invalid_token' as const }) };
    }
    const { principal, token } = caller;
    const anonymous = principal.kind === 'anonymous';
    switch (need) {
      case 'optional':
        return grant(caller);
      case 'login':
        return anonymous ? { kind: 'challenge' } : grant(caller);
      case 'account':
        if (anonymous) return { kind: 'challenge', message: 'log in to use the management API' };
        if (token !== undefined) return { kind: 'deny', message: 'the account API needs a password, an access token or a web session, not a bearer token' };
        return grant(caller);
      case 'admin':
        if (anonymous) return { kind: 'challenge' };
        if (token !== undefined) return { kind: 'deny', message: 'administration needs a password, an access token or a web session, not a bearer token' };
        return isAdmin(principal) ? grant(caller) : { kind: 'deny' };
      case 'catalog':
      case 'search': {
        // An anonymous caller gets the public part at once, as for /v1/search: the catalog clients
        // (docker's, go-containerregistry's, containers/image) ping /v2/ first and send a
        // registry:catalog:* token when the registry challenges there, so they are not listed short.
        const scope = need === 'catalog' ? 'registry:catalog:*' : 'registry:catalog:search';
        if (token !== undefined && !holds(token, 'registry', 'catalog', need === 'catalog' ? '*' : 'search')) {
          return { kind: 'challenge', scope, error: 'insufficient_scope' };
        }
        return grant(caller);
      }
    }
    const actions = need === 'push' ? 'pull,push' : need;
    // A mount also asks for pull on its source, so that the token the client gets can mount (as distribution's challenge does).
    const scope = `repository:${name}:${actions}${request.mountFrom !== undefined && request.mountFrom !== name ? ` repository:${request.mountFrom}:pull` : ''}`;
    if (!(await this.mayDo(caller, name, need))) {
      if (anonymous) return { kind: 'challenge', scope };
      if (token !== undefined) return { kind: 'challenge', scope, error: 'insufficient_scope', message: 'insufficient scope' };
      return { kind: 'deny', scope };
    }
    // A cross-repository mount needs pull on its source; a mount without `from` is never tried.
    const mount = request.mountFrom !== undefined && (await this.mayDo(caller, request.mountFrom, 'pull'));
    return grant(caller, mount);
  }

  /** Whether the caller may take `action` on `name`: a token by its scopes alone (the hot path), anyone else by the policy. */
  private async mayDo({ principal, token }: Caller, name: string, action: RepositoryAction): Promise<boolean> {
    if (token !== undefined) return holds(token, 'repository', name, action);
    return (await this.access.policy.repositoryActions(principal, name)).has(action);
  }

  /** Who the credentials name, with their rights; throws AuthenticationError for bad ones. */
  private async authenticate(credentials: Credentials, need: Need): Promise<Caller> {
    const header = credentials.authorization?.trim() ?? '';
    if (header === '') return { principal: (await credentials.session()) ?? ANONYMOUS };
    const space = header.indexOf(' ');
    const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
    const value = space === -1 ? '' : header.slice(space + 1).trim();
    if (scheme === 'basic') {
      const creds = parseBasic(value);
      if (creds === undefined) throw new AuthenticationError('malformed Basic credentials');
      return { principal: await this.access.authenticator.login(creds.user, creds.password, credentials.address) };
    }
    if (scheme !== 'bearer') throw new AuthenticationError(`unsupported authorization scheme ${scheme}`);
    const token = await this.access.tokens.verify(value);
    if (token.subject === '') return { principal: ANONYMOUS, token };
    const user = await this.access.currentUser(token.subject);
    // A token outlives nothing of its user: deleted, it is refused (not merely anonymous).
    if (user === undefined) throw new AuthenticationError('the token names a user who no longer exists');
    // The catalog and search scopes list what the user may pull; anything else is the token's scopes only.
    const listing = (need === 'catalog' && holds(token, 'registry', 'catalog', '*')) || (need === 'search' && holds(token, 'registry', 'catalog', 'search'));
    const restrict = !listing ? tokenScopes(token) : token.restrict === undefined ? undefined : parseScopes(token.restrict);
    const principal: Principal = { kind: 'user', name: user.name, admin: user.admin, via: 'bearer', ...(restrict && { restrict }) };
    return { principal, token };
  }
}

/** The scopes of a restricted token's claim; one that does not parse (it never should: we signed it) allows nothing. */
function parseScopes(scopes: readonly string[]): Scope[] {
  return scopes.flatMap((s) => {
    try {
      return [parseScope(s, true)];
    } catch {
      return [];
    }
  });
}

/** Decode `Authorization: Basic`; undefined when it is not well-formed. */
export function parseBasic(value: string): { user: string; password: string } | undefined {
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
