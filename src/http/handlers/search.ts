/**
 * Discovery over HTTP:
 *   GET /v1/_ping                 what `docker search` checks first (a standalone v1 endpoint)
 *   GET /v1/search?q=&n=&page=    Docker's v1 search JSON, read by `docker search` and `podman search`
 *   GET /api/v1/search            the richer search for the UI: filters, sorts, pagination
 * Anyone may search; the answers only ever name what the caller may pull (the filter is part of
 * the index's query). Credentials are honoured when sent: Basic (what docker sends to v1 after a
 * password login, and podman), or a bearer token, which for /v1/search must carry
 * `registry:catalog:search` (what docker asks the token server for).
 */
import type { App, Handler, RequestContext } from '../context.ts';
import { HttpError } from '../errors.ts';
import { sendJson } from './json.ts';
import { iso } from './api-common.ts';
import { booleanParam, choiceParam, integerParam, pageJson, pageParams, textParam } from './query-params.ts';
import type { Discovery } from '../../search/discovery.ts';
import { SEARCH_SORTS, type AccessFilter, type RepositorySummary, type SearchSort } from '../../search/model.ts';

const MAX_QUERY = 256;

export function discoveryOf(app: App): Discovery {
  if (app.search === undefined) throw new HttpError('NOT_FOUND', 'search is not enabled on this registry');
  return app.search;
}

/** What the caller may see (authorize() found who they are; a bearer token for /v1/search holds registry:catalog:search). */
export async function visibleTo(ctx: RequestContext, app: App): Promise<AccessFilter> {
  return discoveryOf(app).filterFor(ctx.principal, ctx.unrestricted ? undefined : app.access?.policy);
}

export const getV1Ping: Handler = async ({ res }) => {
  res.setHeader('X-Docker-Registry-Standalone', 'true');
  sendJson(res, 200, { standalone: true });
};

/** GET /v1/search */
export const getV1Search: Handler = async (ctx, app) => {
  const discovery = discoveryOf(app);
  const access = await visibleTo(ctx, app);
  const text = textParam(ctx, 'q', MAX_QUERY);
  const { page, size, offset } = pageParams(ctx, 'n');
  const result = await discovery.index.search({ text, access, sort: 'relevance', offset, limit: size });
  sendJson(ctx.res, 200, {
    query: text,
    num_results: result.total,
    num_pages: Math.ceil(result.total / size),
    page,
    page_size: size,
    results: result.hits.map((h) => ({
      name: h.name,
      description: h.description,
      star_count: h.starCount,
      pull_count: h.pullCount,
      is_official: h.isOfficial,
      is_automated: h.isAutomated,
    })),
  });
};

export function summaryJson(h: RepositorySummary, defaultPublic: boolean): Record<string, unknown> {
  return {
    name: h.name,
    namespace: h.namespace,
    description: h.description,
    starCount: h.starCount,
    pullCount: h.pullCount,
    isOfficial: h.isOfficial,
    isAutomated: h.isAutomated,
    updatedAt: iso(h.updatedAt),
    visibility: h.visibility ?? (defaultPublic ? 'public' : 'private'),
  };
}

/** GET /api/v1/search?q=&namespace=&official=&stars=&sort=relevance|stars|pulls|updated&page=&per_page= */
export const getApiSearch: Handler = async (ctx, app) => {
  const discovery = discoveryOf(app);
  const access = await visibleTo(ctx, app);
  const text = textParam(ctx, 'q', MAX_QUERY);
  const sort = choiceParam<SearchSort>(ctx, 'sort', SEARCH_SORTS, 'relevance');
  const paging = pageParams(ctx);
  const namespace = ctx.query.get('namespace') ?? undefined;
  const official = booleanParam(ctx, 'official');
  const minStars = integerParam(ctx, 'stars', 0, 0, Number.MAX_SAFE_INTEGER);
  const result = await discovery.index.search({
    text,
    access,
    sort,
    offset: paging.offset,
    limit: paging.size,
    ...(namespace !== undefined && { namespace }),
    ...(official !== undefined && { official }),
    ...(minStars > 0 && { minStars }),
  });
  sendJson(ctx.res, 200, {
    query: text,
    ...pageJson(result.total, paging),
    results: result.hits.map((h) => summaryJson(h, discovery.defaultPublic)),
  });
};
