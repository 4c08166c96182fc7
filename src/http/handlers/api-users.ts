/**
 * The management API for users and their access tokens:
 *   GET /api/v1/user                              who am I
 *   GET, POST /api/v1/users                       list, create (administrators)
 *   GET, PATCH, DELETE /api/v1/users/{user}       read, change password or admin flag, delete
 *   GET, POST /api/v1/users/{user}/tokens         list (never secrets), create (the secret once)
 *   DELETE /api/v1/users/{user}/tokens/{id}       revoke
 * Every operation is the AccountService's, checked against the caller.
 */
import { z } from 'zod';
import type { Handler } from '../context.ts';
import { paths } from '../routes.ts';
import { sendEmpty, sendJson } from './json.ts';
import { loggedIn, param, readJson, tokenJson } from './api-common.ts';
import { AccessDeniedError, AccountUnknownError, AuthenticationError } from '../../auth/errors.ts';
import type { AccessControl } from '../../auth/access-control.ts';
import type { RequestContext } from '../context.ts';
import { HttpError } from '../errors.ts';
import { clientAddress } from '../client-address.ts';
import { startSession } from './api-session.ts';
import { tokenExpiry } from '../../auth/expiry.ts';
import { isAdmin } from '../../auth/principal.ts';
import { formatScope } from '../../auth/scope.ts';

const NewUser = z.strictObject({
  name: z.string(),
  password: z.string(),
  admin: z.boolean().optional(),
});

const UserChange = z
  .strictObject({
    password: z.string().optional(),
    /** Needed to change one's own password from a web session. */
    currentPassword: z.string().optional(),
    admin: z.boolean().optional(),
  })
  .refine((c) => c.password !== undefined || c.admin !== undefined, 'give password or admin');

const NewToken = z.strictObject({
  name: z.string(),
  scopes: z.array(z.string()).max(100).nullable().optional(),
  expiresIn: z.union([z.string(), z.number()]).optional(),
  expiresAt: z.string().optional(),
  /** Needed from a web session: a token outlives the session, so minting one asks for the password again. */
  currentPassword: z.string().optional(),
});

/** GET /api/v1/user */
export const getMe: Handler = async (ctx, app) => {
  const { access, actor } = loggedIn(ctx, app);
  if (actor.kind !== 'user') throw new Error('a logged-in caller is a user');
  if (actor.restrict !== undefined) {
    // A scoped access token may say whose it is and what it allows, nothing more.
    sendJson(ctx.res, 200, { name: actor.name, admin: false, orgs: [], scopes: actor.restrict.map(formatScope) });
    return;
  }
  try {
    sendJson(ctx.res, 200, await access.accounts.getUser(actor, actor.name));
  } catch (err) {
    // An htpasswd user has no account record: they are who the file says, an administrator.
    if (!(err instanceof AccountUnknownError) || actor.via !== 'htpasswd') throw err;
    sendJson(ctx.res, 200, { name: actor.name, admin: isAdmin(actor), orgs: [] });
  }
};

/** GET /api/v1/users */
export const listUsers: Handler = async (ctx, app) => {
  const { access, actor } = loggedIn(ctx, app);
  sendJson(ctx.res, 200, { users: await access.accounts.listUsers(actor) });
};

/** POST /api/v1/users */
export const createUser: Handler = async (ctx, app) => {
  const { access, actor } = loggedIn(ctx, app);
  const body = await readJson(ctx, NewUser);
  const user = await access.accounts.createUser(actor, body.name, body.password, body.admin ?? false);
  ctx.res.setHeader('Location', ctx.path(paths.apiUser(user.name)));
  sendJson(ctx.res, 201, user);
};

/** GET /api/v1/users/{user} */
export const getUser: Handler = async (ctx, app) => {
  const { access, actor } = loggedIn(ctx, app);
  sendJson(ctx.res, 200, await access.accounts.getUser(actor, param(ctx, 'user')));
};

/** PATCH /api/v1/users/{user}: {password} by the user or an administrator, {admin} by an administrator. */
export const patchUser: Handler = async (ctx, app) => {
  const { access, actor } = loggedIn(ctx, app);
  const name = param(ctx, 'user');
  const change = await readJson(ctx, UserChange);
  // From a browser session, one's own password changes only with the current one (a session left open is not enough).
  const ownSession = change.password !== undefined && actor.kind === 'user' && actor.via === 'session' && actor.name === name;
  if (ownSession) await checkCurrentPassword(ctx, access, name, change.currentPassword);
  // The admin flag first: it needs more rights, so a refused change leaves the password alone too.
  if (change.admin !== undefined) await access.accounts.setAdmin(actor, name, change.admin);
  if (change.password !== undefined) {
    await access.accounts.setPassword(actor, name, change.password);
    // The change ended every session, this one too: it goes on under a new one (GET /api/v1/session has its CSRF token).
    if (ownSession) await startSession(ctx, access, { ...actor, via: 'password' });
  }
  sendJson(ctx.res, 200, await access.accounts.getUser(actor, name));
};

async function checkCurrentPassword(ctx: RequestContext, access: AccessControl, name: string, current: string | undefined): Promise<void> {
  if (current === undefined) throw new HttpError('REQUEST_INVALID', 'give currentPassword: from a web session, this change needs your password');
  let proved;
  try {
    proved = await access.authenticator.login(name, current, clientAddress(ctx.req));
  } catch (err) {
    if (err instanceof AuthenticationError) throw new AccessDeniedError('the current password is wrong');
    throw err;
  }
  // An access token is accepted as a password elsewhere, never as proof of the password itself.
  if (proved.via !== 'password') throw new AccessDeniedError('the current password is wrong');
}

/** DELETE /api/v1/users/{user} */
export const deleteUser: Handler = async (ctx, app) => {
  const { access, actor } = loggedIn(ctx, app);
  await access.accounts.deleteUser(actor, param(ctx, 'user'));
  sendEmpty(ctx.res, 204);
};

/** GET /api/v1/users/{user}/tokens */
export const listTokens: Handler = async (ctx, app) => {
  const { access, actor } = loggedIn(ctx, app);
  const tokens = await access.accounts.listTokens(actor, param(ctx, 'user'));
  sendJson(ctx.res, 200, { tokens: tokens.map(tokenJson) });
};

/** POST /api/v1/users/{user}/tokens: 201 with the secret, shown this once. */
export const createToken: Handler = async (ctx, app) => {
  const { access, actor } = loggedIn(ctx, app);
  const user = param(ctx, 'user');
  const body = await readJson(ctx, NewToken);
  if (actor.kind === 'user' && actor.via === 'session') await checkCurrentPassword(ctx, access, actor.name, body.currentPassword);
  const expiresAt = tokenExpiry({ expiresIn: body.expiresIn, expiresAt: body.expiresAt });
  const { token, secret } = await access.accounts.createToken(actor, user, body.name, body.scopes ?? null, expiresAt);
  ctx.res.setHeader('Cache-Control', 'no-store');
  sendJson(ctx.res, 201, { ...tokenJson(token), secret });
};

/** DELETE /api/v1/users/{user}/tokens/{id} */
export const revokeToken: Handler = async (ctx, app) => {
  const { access, actor } = loggedIn(ctx, app);
  await access.accounts.revokeToken(actor, param(ctx, 'user'), param(ctx, 'id'));
  sendEmpty(ctx.res, 204);
};
