/** Listings: tags of a repository, the catalog, and the referrers of a manifest. */
import type { Handler } from '../context.ts';
import { paginate, parsePage } from '../headers.ts';
import { paths } from '../routes.ts';
import { OCI_INDEX } from '../../registry/media-types.ts';
import { sendJson } from './json.ts';

/** The most tags one page returns, whatever `n` asks (without `n`, all tags are listed). */
export const MAX_TAGS_PAGE = 10_000;

export const getTags: Handler = async (ctx, app) => {
  const page = parsePage(ctx.query, MAX_TAGS_PAGE);
  const { manifests } = app.registry;
  const tags = await paginate(ctx.res, ctx.path(paths.tags(ctx.name)), page, (p) => manifests.tags(ctx.name, p));
  sendJson(ctx.res, 200, { name: ctx.name, tags });
};

/** The catalog lists only what the caller may pull: the policy's filter is part of the store's query. */
export const getCatalog: Handler = async (ctx, app) => {
  const max = app.options.catalogMaxEntries;
  const page = parsePage(ctx.query, max, max);
  const policy = ctx.unrestricted ? undefined : app.access?.policy;
  const visible = policy === undefined ? undefined : await policy.visibleTo(ctx.principal);
  const repositories = await paginate(ctx.res, ctx.path(paths.catalog()), page, (p) => app.registry.manifests.catalog(p, visible));
  sendJson(ctx.res, 200, { repositories });
};

export const getReferrers: Handler = async (ctx, app) => {
  const artifactType = ctx.query.get('artifactType') ?? undefined;
  const index = await app.registry.manifests.referrers(ctx.name, ctx.params['digest'] ?? '', artifactType);
  if (artifactType !== undefined) ctx.res.setHeader('OCI-Filters-Applied', 'artifactType');
  sendJson(ctx.res, 200, index, OCI_INDEX);
};
