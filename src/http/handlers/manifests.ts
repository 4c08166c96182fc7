/**
 * Manifests: GET and HEAD with content negotiation, PUT with validation, DELETE of a tag or digest.
 * A reference that is neither a tag nor a digest names no manifest: GET, HEAD and DELETE answer
 * 404 MANIFEST_UNKNOWN (as distribution, whose routes do not match it, and the spec's conformance
 * suite expect) before the store, a mirror's upstream or a storage path sees it; PUT refuses it.
 */
import type { Handler, RequestContext } from '../context.ts';
import { readBody } from '../body.ts';
import { acceptedTypes } from '../headers.ts';
import { paths } from '../routes.ts';
import { MANIFEST_SIZE_LIMIT } from '../../registry/manifests.ts';
import { ManifestTooLargeError, ManifestUnknownError } from '../../registry/errors.ts';
import { isReference } from '../../registry/reference.ts';
import { manifestsOf, storesOf } from '../request-info.ts';
import type { ManifestRecord } from '../../meta/store.ts';
import { sendEmpty } from './json.ts';

type ManifestHeaders = Readonly<Record<string, string | number>>;

/** Headers per record: a resolved record is cached and served many times (registry/manifests.ts). */
const headersOf = new WeakMap<ManifestRecord, ManifestHeaders>();

function manifestHeaders(record: ManifestRecord): ManifestHeaders {
  let headers = headersOf.get(record);
  if (headers === undefined) {
    headers = {
      'Content-Type': record.mediaType,
      'Content-Length': record.size,
      'Docker-Content-Digest': record.digest,
      ETag: `"${record.digest}"`,
    };
    headersOf.set(record, headers);
  }
  return headers;
}

/** The reference of a GET, HEAD or DELETE; MANIFEST_UNKNOWN when it could not name a manifest. */
function existingReference(ctx: RequestContext): string {
  const reference = ctx.params['reference'] ?? '';
  if (!isReference(reference)) throw new ManifestUnknownError(reference);
  return reference;
}

export const getManifest: Handler = async (ctx, app) => {
  const accepted = acceptedTypes(ctx.req.headers.accept);
  const reference = existingReference(ctx);
  const stored = await manifestsOf(ctx, app).getAccepted(ctx.name, reference, accepted);
  // counted, and the tags it names stamped as pulled (retention), in batches (search/pulls.ts)
  app.search?.pulls.record(ctx.name, reference);
  ctx.res.writeHead(200, manifestHeaders(stored.record));
  ctx.res.end(stored.content);
};

export const headManifest: Handler = async (ctx, app) => {
  const accepted = acceptedTypes(ctx.req.headers.accept);
  const reference = existingReference(ctx);
  const record = await app.registry.manifests.statAccepted(ctx.name, reference, accepted);
  // a client resolving a tag it has (docker pull of an image up to date) uses it: no pull counted, the tag stamped
  app.search?.pulls.used(ctx.name, reference);
  sendEmpty(ctx.res, 200, manifestHeaders(record));
};

export const putManifest: Handler = async (ctx, app) => {
  const content = await readBody(ctx.req, MANIFEST_SIZE_LIMIT);
  if (content === undefined) {
    // The rest of the body may still be on its way: answer, then close rather than reuse the connection.
    ctx.res.setHeader('Connection', 'close');
    throw new ManifestTooLargeError(MANIFEST_SIZE_LIMIT);
  }
  const pushed = await storesOf(ctx, app).manifests.put(ctx.name, ctx.params['reference'] ?? '', content, ctx.req.headers['content-type']);
  const headers: Record<string, string> = {
    Location: ctx.url(paths.manifest(ctx.name, pushed.digest)),
    'Docker-Content-Digest': pushed.digest,
  };
  if (pushed.subject !== null) headers['OCI-Subject'] = pushed.subject;
  sendEmpty(ctx.res, 201, headers);
};

export const deleteManifest: Handler = async (ctx, app) => {
  const reference = existingReference(ctx);
  await storesOf(ctx, app).manifests.delete(ctx.name, reference);
  sendEmpty(ctx.res, 202);
};
