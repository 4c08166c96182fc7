/**
 * The management API for a repository's settings:
 *   GET /api/v1/repositories/{name}     visibility and what the caller may do there; anyone may read a
 *                                       public repository's, anonymous callers of others get the 401 challenge
 *   PATCH /api/v1/repositories/{name}   {visibility: 'public' | 'private'}, by the repository's administrators
 * `name` is validated with the registry's name grammar before the handler runs (http/server.ts).
 */
import { z } from 'zod';
import type { Handler, RequestContext } from '../context.ts';
import { sendJson } from './json.ts';
import { caller, iso, loggedIn, readJson } from './api-common.ts';
import { challenge } from '../authorize.ts';
import { AccountUnknownError } from '../../auth/errors.ts';
import { VISIBILITIES, type RepositorySettings, type Visibility } from '../../auth/store.ts';

const Change = z.strictObject({ visibility: z.enum(VISIBILITIES as readonly [Visibility, ...Visibility[]]) });

function repositoryJson(settings: RepositorySettings, actions?: readonly string[]): Record<string, unknown> {
  return {
    name: settings.name,
    namespace: settings.namespace,
    visibility: settings.visibility,
    createdAt: iso(settings.createdAt),
    updatedAt: iso(settings.updatedAt),
    ...(actions !== undefined && { actions }),
  };
}

/** GET /api/v1/repositories/{name} */
export const getRepository: Handler = async (ctx: RequestContext, app) => {
  const { access, actor } = await caller(ctx, app);
  try {
    const repo = await access.accounts.repository(actor, ctx.name);
    sendJson(ctx.res, 200, repositoryJson(repo, repo.actions));
  } catch (err) {
    // Not public (or not there): an anonymous caller is asked to log in, as on /v2/.
    if (err instanceof AccountUnknownError && actor.kind === 'anonymous') throw challenge(ctx, access, `repository:${ctx.name}:pull`);
    throw err;
  }
};

/** PATCH /api/v1/repositories/{name} */
export const patchRepository: Handler = async (ctx, app) => {
  const { access, actor } = await loggedIn(ctx, app);
  const change = await readJson(ctx, Change);
  const settings = await access.accounts.setVisibility(actor, ctx.name, change.visibility);
  sendJson(ctx.res, 200, repositoryJson(settings));
};
