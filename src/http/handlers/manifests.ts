/** Manifests: GET and HEAD with content negotiation, PUT with validation, DELETE of a tag or digest. */
import type { Handler, RequestContext } from '../context.ts';
import type { App } from '../context.ts';
import { readBody } from '../body.ts';
import { acceptedTypes } from '../headers.ts';
import { paths } from '../routes.ts';
import { MANIFEST_SIZE_LIMIT, type StoredManifest } from '../../registry/manifests.ts';
import { ManifestTooLargeError } from '../../registry/errors.ts';
import { DOCKER_MANIFEST, INDEX_TYPES } from '../../registry/media-types.ts';
import type { ManifestRecord } from '../../meta/store.ts';
import { sendEmpty } from './json.ts';

/**
 * A client that does not accept an index (an old docker) gets the linux/amd64 image of a
 * multi-platform index instead, as distribution does; otherwise the manifest as stored.
 */
async function negotiate(ctx: RequestContext, app: App, stored: StoredManifest): Promise<StoredManifest> {
  const { record } = stored;
  if (!INDEX_TYPES.has(record.mediaType)) return stored;
  const accepted = acceptedTypes(ctx.req.headers.accept);
  if (accepted.size === 0 || accepted.has(record.mediaType) || accepted.has('*/*')) return stored;
  if (!accepted.has(DOCKER_MANIFEST) && !accepted.has('application/vnd.oci.image.manifest.v1+json')) return stored;
  const index = JSON.parse(stored.content.toString('utf8')) as {
    manifests?: { digest: string; mediaType?: string; platform?: { os?: string; architecture?: string } }[];
  };
  const child = index.manifests?.find(
    (m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64' && m.mediaType !== undefined && accepted.has(m.mediaType),
  );
  if (child === undefined) return stored;
  return app.registry.manifests.get(ctx.name, child.digest);
}

function manifestHeaders(record: ManifestRecord): Record<string, string | number> {
  return {
    'Content-Type': record.mediaType,
    'Content-Length': record.size,
    'Docker-Content-Digest': record.digest,
    ETag: `"${record.digest}"`,
  };
}

export const getManifest: Handler = async (ctx, app) => {
  const stored = await negotiate(ctx, app, await app.registry.manifests.get(ctx.name, ctx.params['reference'] ?? ''));
  ctx.res.writeHead(200, manifestHeaders(stored.record));
  ctx.res.end(stored.content);
};

export const headManifest: Handler = async (ctx, app) => {
  const reference = ctx.params['reference'] ?? '';
  const record = await app.registry.manifests.stat(ctx.name, reference);
  if (INDEX_TYPES.has(record.mediaType)) {
    const stored = await negotiate(ctx, app, await app.registry.manifests.get(ctx.name, reference));
    sendEmpty(ctx.res, 200, manifestHeaders(stored.record));
    return;
  }
  sendEmpty(ctx.res, 200, manifestHeaders(record));
};

export const putManifest: Handler = async (ctx, app) => {
  const content = await readBody(ctx.req, MANIFEST_SIZE_LIMIT);
  if (content === undefined) throw new ManifestTooLargeError(MANIFEST_SIZE_LIMIT);
  const pushed = await app.registry.manifests.put(ctx.name, ctx.params['reference'] ?? '', content, ctx.req.headers['content-type']);
  const headers: Record<string, string> = {
    Location: ctx.url(paths.manifest(ctx.name, pushed.digest)),
    'Docker-Content-Digest': pushed.digest,
  };
  if (pushed.subject !== null) headers['OCI-Subject'] = pushed.subject;
  sendEmpty(ctx.res, 201, headers);
};

export const deleteManifest: Handler = async (ctx, app) => {
  await app.registry.manifests.delete(ctx.name, ctx.params['reference'] ?? '');
  sendEmpty(ctx.res, 202);
};
