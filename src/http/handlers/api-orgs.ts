/**
 * The management API for organisations, their members and teams:
 *   GET, POST /api/v1/orgs                                    mine (all for administrators), create
 *   GET, DELETE /api/v1/orgs/{org}                            members and teams; delete
 *   PUT, DELETE /api/v1/orgs/{org}/members/{user}             add or change ({owner}), remove
 *   POST /api/v1/orgs/{org}/teams                             create ({name})
 *   DELETE /api/v1/orgs/{org}/teams/{team}                    delete
 *   PUT, DELETE /api/v1/orgs/{org}/teams/{team}/members/{user}
 *   PUT /api/v1/orgs/{org}/teams/{team}/permissions           {repository: 'acme/app' or '', role or null}
 * Every operation is the AccountService's, checked against the caller.
 */
import { z } from 'zod';
import type { Handler } from '../context.ts';
import { paths } from '../routes.ts';
import { sendEmpty, sendJson } from './json.ts';
import { iso, loggedIn, param, readJson, type Caller } from './api-common.ts';
import { ROLES, type Role } from '../../auth/store.ts';

const NewOrg = z.strictObject({ name: z.string(), owner: z.string().optional() });
const Membership = z.strictObject({ owner: z.boolean().optional() });
const NewTeam = z.strictObject({ name: z.string() });
const Permission = z.strictObject({
  repository: z.string(),
  role: z.enum(ROLES as readonly [Role, ...Role[]]).nullable(),
});

async function orgJson({ access, actor }: Caller, name: string): Promise<Record<string, unknown>> {
  const { org, members, teams } = await access.accounts.getOrg(actor, name);
  return {
    name: org.name,
    createdAt: iso(org.createdAt),
    members,
    teams: teams.map((t) => ({ name: t.name, members: t.members, permissions: t.permissions })),
  };
}

/** GET /api/v1/orgs */
export const listOrgs: Handler = async (ctx, app) => {
  const { access, actor } = loggedIn(ctx, app);
  const orgs = await access.accounts.listOrgs(actor);
  sendJson(ctx.res, 200, { orgs: orgs.map((o) => ({ name: o.name, createdAt: iso(o.createdAt) })) });
};

/** POST /api/v1/orgs: the caller owns it, unless an administrator names another owner. */
export const createOrg: Handler = async (ctx, app) => {
  const c = loggedIn(ctx, app);
  const body = await readJson(ctx, NewOrg);
  const org = await c.access.accounts.createOrg(c.actor, body.name, body.owner);
  ctx.res.setHeader('Location', ctx.path(paths.apiOrg(org.name)));
  sendJson(ctx.res, 201, await orgJson(c, org.name));
};

/** GET /api/v1/orgs/{org}: for its members and administrators; 404 for anyone else. */
export const getOrg: Handler = async (ctx, app) => {
  const c = loggedIn(ctx, app);
  sendJson(ctx.res, 200, await orgJson(c, param(ctx, 'org')));
};

/** DELETE /api/v1/orgs/{org} */
export const deleteOrg: Handler = async (ctx, app) => {
  const { access, actor } = loggedIn(ctx, app);
  await access.accounts.deleteOrg(actor, param(ctx, 'org'));
  sendEmpty(ctx.res, 204);
};

/** PUT /api/v1/orgs/{org}/members/{user}: {owner} (default false). */
export const putOrgMember: Handler = async (ctx, app) => {
  const { access, actor } = loggedIn(ctx, app);
  const body = await readJson(ctx, Membership);
  await access.accounts.setOrgMember(actor, param(ctx, 'org'), param(ctx, 'user'), body.owner ?? false);
  sendEmpty(ctx.res, 204);
};

/** DELETE /api/v1/orgs/{org}/members/{user} */
export const deleteOrgMember: Handler = async (ctx, app) => {
  const { access, actor } = loggedIn(ctx, app);
  await access.accounts.removeOrgMember(actor, param(ctx, 'org'), param(ctx, 'user'));
  sendEmpty(ctx.res, 204);
};

/** POST /api/v1/orgs/{org}/teams: {name} */
export const createTeam: Handler = async (ctx, app) => {
  const { access, actor } = loggedIn(ctx, app);
  const org = param(ctx, 'org');
  const body = await readJson(ctx, NewTeam);
  await access.accounts.createTeam(actor, org, body.name);
  ctx.res.setHeader('Location', ctx.path(paths.apiTeam(org, body.name)));
  sendJson(ctx.res, 201, { org, name: body.name, members: [], permissions: [] });
};

/** DELETE /api/v1/orgs/{org}/teams/{team} */
export const deleteTeam: Handler = async (ctx, app) => {
  const { access, actor } = loggedIn(ctx, app);
  await access.accounts.deleteTeam(actor, param(ctx, 'org'), param(ctx, 'team'));
  sendEmpty(ctx.res, 204);
};

/** PUT /api/v1/orgs/{org}/teams/{team}/members/{user} */
export const putTeamMember: Handler = async (ctx, app) => {
  const { access, actor } = loggedIn(ctx, app);
  await access.accounts.addTeamMember(actor, param(ctx, 'org'), param(ctx, 'team'), param(ctx, 'user'));
  sendEmpty(ctx.res, 204);
};

/** DELETE /api/v1/orgs/{org}/teams/{team}/members/{user} */
export const deleteTeamMember: Handler = async (ctx, app) => {
  const { access, actor } = loggedIn(ctx, app);
  await access.accounts.removeTeamMember(actor, param(ctx, 'org'), param(ctx, 'team'), param(ctx, 'user'));
  sendEmpty(ctx.res, 204);
};

/** PUT /api/v1/orgs/{org}/teams/{team}/permissions: {repository, role}; role null revokes. */
export const putTeamPermission: Handler = async (ctx, app) => {
  const { access, actor } = loggedIn(ctx, app);
  const body = await readJson(ctx, Permission);
  await access.accounts.setTeamPermission(actor, param(ctx, 'org'), param(ctx, 'team'), body.repository, body.role);
  sendEmpty(ctx.res, 204);
};
