/** Listings: tags of a repository, the catalog, and the referrers of a manifest. */
import type { Handler } from '../context.ts';
import { paginate, parsePage } from '../headers.ts';
import { paths } from '../routes.ts';
import { OCI_INDEX } from '../../registry/media-types.ts';
import { sendJson } from './json.ts';
import type { Page } from '../../meta/store.ts';

/** The most tags one page returns, whatever `n` asks (without `n`, all tags are listed). */
export const MAX_TAGS_PAGE = 10_000;

export const getTags: Handler = async (ctx, app) => {
  const page = parsePage(ctx.query, MAX_TAGS_PAGE);
  const { manifests } = app.registry;
  const tags = await paginate(ctx.res, ctx.path(paths.tags(ctx.name)), page, (p) => manifests.tags(ctx.name, p));
  sendJson(ctx.res, 200, { name: ctx.name, tags });
};

/** The catalog lists only what the caller may pull: pages are read and filtered until one is full. */
export const getCatalog: Handler = async (ctx, app) => {
  const max = app.options.catalogMaxEntries;
  const page = parsePage(ctx.query, max, max);
  const { manifests } = app.registry;
  const policy = ctx.unrestricted ? undefined : app.access?.policy;
  const fetch: (p: Page) => Promise<string[]> =
    policy === undefined ? (p) => manifests.catalog(p) : (p) => filteredPage(p, (q) => manifests.catalog(q), (names) => policy.pullable(ctx.principal, names));
  const repositories = await paginate(ctx.res, ctx.path(paths.catalog()), page, fetch);
  sendJson(ctx.res, 200, { repositories });
};

async function filteredPage(page: Page, read: (p: Page) => Promise<string[]>, keep: (names: string[]) => Promise<Set<string>>): Promise<string[]> {
  const out: string[] = [];
  const want = page.n ?? Infinity;
  const batch = Math.max(100, Math.min(page.n ?? 1000, 1000));
  let last = page.last;
  for (;;) {
    const names = await read({ last, n: batch });
    const kept = await keep(names);
    for (const name of names) {
      if (kept.has(name)) out.push(name);
      if (out.length >= want) return out;
    }
    if (names.length < batch) return out;
    last = names[names.length - 1];
  }
}

export const getReferrers: Handler = async (ctx, app) => {
  const artifactType = ctx.query.get('artifactType') ?? undefined;
  const index = await app.registry.manifests.referrers(ctx.name, ctx.params['digest'] ?? '', artifactType);
  if (artifactType !== undefined) ctx.res.setHeader('OCI-Filters-Applied', 'artifactType');
  sendJson(ctx.res, 200, index, OCI_INDEX);
};
