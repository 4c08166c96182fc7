/**
 * The management API for a repository's settings:
 *   GET /api/v1/repositories/{name}     visibility and what the caller may do there; anyone may read a
 *                                       public repository's, anonymous callers of others get the 401 challenge
 *   PATCH /api/v1/repositories/{name}   {visibility: 'public' | 'private'}, by the repository's administrators;
 *                                       {description, fullDescription (Markdown)}, by its writers (push)
 * Both answer createdAt (the first push) and updatedAt (the last push, tag move or delete) from the
 * meta store, the times search and the web UI's listings show, null while the repository holds no
 * manifest. With search on (app.search), both answer the discovery fields too: descriptions, star
 * and pull counts, isOfficial, isAutomated, and whether the caller starred it.
 * `name` is validated with the registry's name grammar before the handler runs (http/server.ts).
 */
import { z } from 'zod';
import type { Handler, RequestContext } from '../context.ts';
import { sendJson } from './json.ts';
import { caller, iso, loggedIn, readJson } from './api-common.ts';
import { challenge } from '../authorize.ts';
import { AccountUnknownError } from '../../auth/errors.ts';
import { VISIBILITIES, type RepositorySettings, type Visibility } from '../../auth/store.ts';
import { AccessDeniedError } from '../../auth/errors.ts';
import { SYSTEM, type Principal } from '../../auth/principal.ts';
import { HttpError } from '../errors.ts';
import type { App } from '../context.ts';
import { MAX_DESCRIPTION, MAX_FULL_DESCRIPTION } from '../../search/model.ts';

const Change = z.strictObject({
  visibility: z.enum(VISIBILITIES as readonly [Visibility, ...Visibility[]]).optional(),
  description: z.string().max(MAX_DESCRIPTION).regex(/^[^\r\n]*$/, 'one line').optional(),
  fullDescription: z.string().max(MAX_FULL_DESCRIPTION).optional(),
}).refine((c) => Object.keys(c).length > 0, 'nothing to change: give visibility, description or fullDescription');

/** The discovery fields of a repository, when search is on. */
async function discoveryJson(app: App, name: string, actor: Principal): Promise<Record<string, unknown>> {
  const details = await app.search?.index.details(name, actor.kind === 'user' ? actor.name : undefined);
  if (details === undefined) return {};
  return {
    description: details.description,
    fullDescription: details.fullDescription,
    starCount: details.starCount,
    pullCount: details.pullCount,
    isOfficial: details.isOfficial,
    isAutomated: details.isAutomated,
    starred: details.starred,
  };
}

/** The repository's settings, with its times from the meta store (not the settings', which change with its visibility). */
async function repositoryJson(app: App, settings: RepositorySettings, actions?: readonly string[]): Promise<Record<string, unknown>> {
  const times = await app.registry.meta.repositoryTimes(settings.name);
  return {
    name: settings.name,
    namespace: settings.namespace,
    visibility: settings.visibility,
    createdAt: iso(times?.createdAt ?? null),
    updatedAt: iso(times?.updatedAt ?? null),
    ...(actions !== undefined && { actions }),
  };
}

/**
 * Who acts on a repository: the caller, or — on an open registry (no users yet, where anyone may
 * push, pull and delete) — the system, so the web UI can show and manage what the registry holds.
 */
function repositoryActor(ctx: RequestContext, actor: Principal): Principal {
  return ctx.unrestricted ? SYSTEM : actor;
}

/** GET /api/v1/repositories/{name} */
export const getRepository: Handler = async (ctx: RequestContext, app) => {
  const c = caller(ctx, app);
  const { access } = c;
  const actor = repositoryActor(ctx, c.actor);
  try {
    const repo = await access.accounts.repository(actor, ctx.name);
    // 'admin' (visibility, deleting the repository) goes with 'delete' (AccessPolicy.canAdminister).
    const actions = repo.actions.includes('delete') ? [...repo.actions, 'admin'] : repo.actions;
    sendJson(ctx.res, 200, { ...(await repositoryJson(app, repo, actions)), ...(await discoveryJson(app, ctx.name, actor)) });
  } catch (err) {
    // Not public (or not there): an anonymous caller is asked to log in, as on /v2/.
    if (err instanceof AccountUnknownError && actor.kind === 'anonymous') throw challenge(ctx, access, `repository:${ctx.name}:pull`);
    throw err;
  }
};

/** PATCH /api/v1/repositories/{name} */
export const patchRepository: Handler = async (ctx, app) => {
  const c = ctx.unrestricted ? caller(ctx, app) : loggedIn(ctx, app);
  const { access } = c;
  const actor = repositoryActor(ctx, c.actor);
  const change = await readJson(ctx, Change);
  const describes = change.description !== undefined || change.fullDescription !== undefined;
  if (describes) {
    const repo = await access.accounts.repository(actor, ctx.name);
    if (!repo.actions.includes('push')) throw new AccessDeniedError(`only writers of ${ctx.name} may change its descriptions`);
    if (app.search === undefined) throw new HttpError('UNSUPPORTED', 'search is not enabled on this registry');
    const { description, fullDescription } = change;
    const changed = await app.search.index.describe(ctx.name, { ...(description !== undefined && { description }), ...(fullDescription !== undefined && { fullDescription }) });
    if (!changed) throw new HttpError('NOT_FOUND', `${ctx.name} holds no image yet`);
  }
  const settings =
    change.visibility !== undefined ? await access.accounts.setVisibility(actor, ctx.name, change.visibility) : await access.accounts.repository(actor, ctx.name);
  sendJson(ctx.res, 200, { ...(await repositoryJson(app, settings)), ...(await discoveryJson(app, ctx.name, actor)) });
};
