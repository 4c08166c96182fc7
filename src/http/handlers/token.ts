/**
 * The built-in token server (Docker token authentication): GET with Basic credentials or
 * anonymous, any number of `scope` parameters, `offline_token=true` for a refresh token; and the
 * OAuth2 POST form (`grant_type=password` or `refresh_token`) that `docker login` and later pulls
 * use. The token grants the intersection of what was asked and what the caller may do.
 * The public keys that verify its tokens are at /auth/jwks.json.
 */
import type { App, Handler, RequestContext } from '../context.ts';
import { HttpError } from '../errors.ts';
import { readBody } from '../body.ts';
import { clientAddress } from '../client-address.ts';
import { parseBasic } from '../../auth/authorizer.ts';
import { sendJson } from './json.ts';
import { ANONYMOUS, type Principal } from '../../auth/principal.ts';
import { formatScope, parseScopes, ScopeInvalidError, type Scope } from '../../auth/scope.ts';
import { AuthenticationError } from '../../auth/errors.ts';
import type { AccessControl } from '../../auth/access-control.ts';

const MAX_FORM_BYTES = 64 * 1024;

function accessOf(app: App): AccessControl {
  if (app.access === undefined) throw new HttpError('NOT_FOUND', 'this registry has no token server');
  return app.access;
}

function scopesOf(values: string[]): Scope[] {
  try {
    return parseScopes(values);
  } catch (err) {
    if (err instanceof ScopeInvalidError) throw new HttpError('REQUEST_INVALID', err.message);
    throw err;
  }
}

function checkService(access: AccessControl, service: string | null): void {
  if (service !== null && service !== '' && service !== access.tokens.settings.service) {
    throw new HttpError('REQUEST_INVALID', `unknown service ${JSON.stringify(service)}; this token server is for ${JSON.stringify(access.tokens.settings.service)}`);
  }
}

async function grantFor(access: AccessControl, principal: Principal, requested: Scope[]) {
  const granted = (await access.policy.grant(principal, requested)).filter((s) => s.actions.length > 0);
  const restrict = principal.kind === 'user' ? principal.restrict?.map(formatScope) : undefined;
  const issued = await access.tokens.issue(principal.kind === 'user' ? principal.name : '', granted, restrict);
  return { granted, issued };
}

/** GET /auth/token */
export const getToken: Handler = async (ctx: RequestContext, app: App) => {
  const access = accessOf(app);
  checkService(access, ctx.query.get('service'));
  const requested = scopesOf(ctx.query.getAll('scope'));
  let principal: Principal = ANONYMOUS;
  const header = ctx.req.headers.authorization;
  if (header !== undefined && /^basic /i.test(header)) {
    const creds = parseBasic(header.slice(6).trim());
    const account = ctx.query.get('account');
    if (creds === undefined || (account !== null && account !== '' && account !== creds.user)) {
      access.failed();
      throw new AuthenticationError(creds === undefined ? 'malformed Basic credentials' : 'account does not match the credentials');
    }
    principal = await access.authenticator.login(creds.user, creds.password, clientAddress(ctx.req));
  }
  const { issued } = await grantFor(access, principal, requested);
  const body: Record<string, unknown> = {
    token: issued.token,
    access_token: issued.token,
    expires_in: issued.expiresIn,
    issued_at: issued.issuedAt.toISOString(),
  };
  if (ctx.query.get('offline_token') === 'true' && principal.kind === 'user' && principal.via === 'password') {
    body['refresh_token'] = await access.authenticator.issueRefreshToken(principal.name, ctx.query.get('client_id') ?? '');
  }
  ctx.res.setHeader('Cache-Control', 'no-store');
  sendJson(ctx.res, 200, body);
};

/** POST /auth/token (OAuth2 form). */
export const postToken: Handler = async (ctx: RequestContext, app: App) => {
  const access = accessOf(app);
  const raw = await readBody(ctx.req, MAX_FORM_BYTES);
  if (raw === undefined) throw new HttpError('SIZE_EXCEEDED', `token request bodies are limited to ${MAX_FORM_BYTES} bytes`);
  const form = new URLSearchParams(raw.toString('utf8'));
  checkService(access, form.get('service'));
  const requested = scopesOf(form.getAll('scope'));
  const addr = clientAddress(ctx.req);
  let principal: Principal;
  let refreshToken: string | undefined;
  switch (form.get('grant_type')) {
    case 'password': {
      principal = await access.authenticator.login(form.get('username') ?? '', form.get('password') ?? '', addr);
      if (form.get('access_type') === 'offline' && principal.via === 'password') {
        refreshToken = await access.authenticator.issueRefreshToken(principal.name, form.get('client_id') ?? '');
      }
      break;
    }
    case 'refresh_token': {
      const secret = form.get('refresh_token') ?? '';
      principal = await access.authenticator.refresh(secret, addr);
      refreshToken = secret;
      break;
    }
    default:
      throw new HttpError('REQUEST_INVALID', 'grant_type must be password or refresh_token');
  }
  const { granted, issued } = await grantFor(access, principal, requested);
  const body: Record<string, unknown> = {
    access_token: issued.token,
    scope: granted.map(formatScope).join(' '),
    expires_in: issued.expiresIn,
    issued_at: issued.issuedAt.toISOString(),
  };
  if (refreshToken !== undefined) body['refresh_token'] = refreshToken;
  ctx.res.setHeader('Cache-Control', 'no-store');
  sendJson(ctx.res, 200, body);
};

/** GET /auth/jwks.json: the public keys that verify berth's tokens. */
export const getJwks: Handler = async (ctx, app) => {
  sendJson(ctx.res, 200, accessOf(app).keys.jwks());
};
