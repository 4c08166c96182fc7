/**
 * The web UI's views of a repository's content:
 *   GET /api/v1/repositories/{name}/_tags?q=&sort=&order=&page=&per_page=   tags with sizes and platforms
 *   GET /api/v1/repositories/{name}/_manifests/{tag or digest}               one manifest in detail
 *   DELETE /api/v1/repositories/{name}/_tags/{tag}                           the tag only
 *   DELETE /api/v1/repositories/{name}                                       every manifest and tag
 * The first three are authorised before the handler like /v2/ (pull, pull, delete: http/authorize.ts);
 * deleting a repository needs its administrators and is checked here. Deletes go through the
 * registry's own delete path (storage.delete.enabled applies) and send the same notifications as
 * DELETE /v2/<name>/manifests/<reference>. The registry's inspector does the reading (registry/inspector.ts).
 */
import type { App, Handler } from '../context.ts';
import { sendEmpty, sendJson } from './json.ts';
import { storesOf } from '../request-info.ts';
import { iso, param } from './api-common.ts';
import { choiceParam, pageJson, pageParams, textParam } from './query-params.ts';
import { ReferenceInvalidError } from '../../registry/errors.ts';
import { isTag } from '../../registry/reference.ts';
import { SORT_ORDERS, TAG_SORTS, type ManifestRecord, type SortOrder, type TagSort } from '../../meta/store.ts';
import type { ManifestDetail, TagDetail } from '../../registry/inspector.ts';

/** Tags are at most 128 characters: no longer text can match one. */
const MAX_TAG_QUERY = 128;

/** Names ascending; the latest pushed and the largest first. */
const DEFAULT_ORDER: Record<TagSort, SortOrder> = { name: 'asc', pushed: 'desc', size: 'desc' };

function tagJson(t: TagDetail): Record<string, unknown> {
  return {
    name: t.name,
    digest: t.manifest.digest,
    mediaType: t.manifest.mediaType,
    artifactType: t.manifest.artifactType,
    size: t.size,
    platforms: t.platforms,
    pushedAt: iso(t.pushedAt),
  };
}

function referrerJson(r: ManifestRecord): Record<string, unknown> {
  return { digest: r.digest, mediaType: r.mediaType, artifactType: r.artifactType, size: r.size, annotations: r.annotations ?? {}, createdAt: iso(r.createdAt) };
}

/**
 * The image size of each platform of an index (its manifest, config and layers, as a tag's size),
 * by digest; an entry this repository does not hold is left out.
 */
async function platformSizes(app: App, d: ManifestDetail): Promise<Map<string, number>> {
  const sizes = await Promise.all((d.platforms ?? []).map(async (p) => [p.digest, await app.registry.meta.totalSize(d.repository, p.digest)] as const));
  return new Map(sizes.filter(([, size]) => size > 0));
}

/** The detail without the manifest itself (detailBody adds it as stored). */
function detailJson(d: ManifestDetail, sizes: ReadonlyMap<string, number>): Record<string, unknown> {
  const { record } = d;
  return {
    name: d.repository,
    reference: d.reference,
    digest: record.digest,
    mediaType: record.mediaType,
    artifactType: record.artifactType,
    size: record.size,
    totalSize: d.totalSize,
    tags: d.tags,
    createdAt: iso(record.createdAt),
    kind: d.kind,
    ...(record.subject !== null && { subject: record.subject }),
    ...(record.annotations !== null && { annotations: record.annotations }),
    ...(d.platforms && {
      platforms: d.platforms.map((p) => ({
        digest: p.digest,
        mediaType: p.mediaType,
        size: p.size,
        totalSize: sizes.get(p.digest) ?? null,
        platform: {
          os: p.platform.os,
          architecture: p.platform.architecture,
          ...(p.platform.variant !== undefined && { variant: p.platform.variant }),
          ...(p.platform['os.version'] !== undefined && { 'os.version': p.platform['os.version'] }),
        },
      })),
    }),
    ...(d.config && { config: d.config }),
    ...(d.layers && {
      layers: d.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size, ...(l.annotations !== undefined && { annotations: l.annotations }) })),
    }),
    ...(d.history && { history: d.history }),
    referrers: d.referrers.map(referrerJson),
  };
}

/**
 * The detail as JSON text with the manifest's stored text as its `manifest` member (null when the
 * inspector could not vouch for it): the manifest is never parsed into a value and serialised again.
 * The inspector hands over only text parseManifest accepted, so the result is valid JSON.
 */
function detailBody(d: ManifestDetail, sizes: ReadonlyMap<string, number>): string {
  const rest = JSON.stringify(detailJson(d, sizes));
  return `${rest.slice(0, -1)},"manifest":${d.manifest ?? 'null'}}`;
}

/** GET /api/v1/repositories/{name}/_tags */
export const listTagDetails: Handler = async (ctx, app) => {
  const text = textParam(ctx, 'q', MAX_TAG_QUERY);
  const sort = choiceParam(ctx, 'sort', TAG_SORTS, 'name');
  const order = choiceParam(ctx, 'order', SORT_ORDERS, DEFAULT_ORDER[sort]);
  const paging = pageParams(ctx);
  const result = await app.registry.inspector.tags(ctx.name, { text, sort, order, offset: paging.offset, limit: paging.size });
  sendJson(ctx.res, 200, { ...pageJson(result.total, paging), tags: result.tags.map(tagJson) });
};

/** GET /api/v1/repositories/{name}/_manifests/{reference} */
export const getManifestDetail: Handler = async (ctx, app) => {
  const detail = await app.registry.inspector.detail(ctx.name, param(ctx, 'reference'));
  const body = detailBody(detail, await platformSizes(app, detail));
  ctx.res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  ctx.res.end(body);
};

/** DELETE /api/v1/repositories/{name}/_tags/{tag} */
export const deleteTag: Handler = async (ctx, app) => {
  const tag = param(ctx, 'tag');
  // A digest here would delete the manifest: this route removes tags only.
  if (!isTag(tag)) throw new ReferenceInvalidError(tag);
  await storesOf(ctx, app).manifests.delete(ctx.name, tag);
  sendEmpty(ctx.res, 204);
};

/** DELETE /api/v1/repositories/{name} */
export const deleteRepository: Handler = async (ctx, app) => {
  // Each manifest's delete event comes from the store, as this request's (events/emitting-stores.ts).
  for await (const _ of app.registry.deleteRepository(ctx.name, storesOf(ctx, app).manifests));
  sendEmpty(ctx.res, 204);
};
