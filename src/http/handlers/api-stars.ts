/**
 * Stars: PUT /api/v1/repositories/{name}/_star stars a repository for the logged-in user, DELETE
 * unstars it; both idempotent, answering `{name, starCount, starred}`. Whoever may pull a
 * repository may star it; for anyone else it does not exist. (`_star`, like `_catalog`: no
 * repository name component starts with `_`, so the suffix never shadows a repository.)
 */
import type { Handler } from '../context.ts';
import { HttpError } from '../errors.ts';
import { loggedIn } from './api-common.ts';
import { discoveryOf } from './search.ts';
import { sendJson } from './json.ts';

function star(on: boolean): Handler {
  return async (ctx, app) => {
    const discovery = discoveryOf(app);
    const { access, actor } = loggedIn(ctx, app);
    if (actor.kind !== 'user') throw new HttpError('DENIED', 'only users star repositories');
    await access.accounts.repository(actor, ctx.name);
    const starCount = await discovery.index.star(ctx.name, actor.name, on);
    if (starCount === undefined) throw new HttpError('NOT_FOUND', `no repository ${ctx.name}`);
    sendJson(ctx.res, 200, { name: ctx.name, starCount, starred: on });
  };
}

export const putStar = star(true);
export const deleteStar = star(false);
