/** Blob uploads: start (plain, monolithic, cross-repository mount), chunk, status, finish, cancel. */
import type { App, Handler, RequestContext } from '../context.ts';
import { hasBody } from '../body.ts';
import { HttpError } from '../errors.ts';
import { parseContentRange, uploadRange } from '../headers.ts';
import { paths } from '../routes.ts';
import { UploadRangeError } from '../../registry/errors.ts';
import { validateName } from '../../registry/reference.ts';
import type { BlobRecord } from '../../meta/store.ts';
import type { FinalChunk, UploadStatus } from '../../registry/uploads.ts';
import { storesOf } from '../request-info.ts';
import { sendEmpty } from './json.ts';

function sendCreated(ctx: RequestContext, blob: BlobRecord): void {
  sendEmpty(ctx.res, 201, { Location: ctx.url(paths.blob(ctx.name, blob.digest)), 'Docker-Content-Digest': blob.digest });
}

function sendProgress(ctx: RequestContext, status: number, upload: UploadStatus): void {
  sendEmpty(ctx.res, status, {
    Location: ctx.url(paths.upload(ctx.name, upload.id)),
    Range: uploadRange(upload.size),
    'Docker-Upload-UUID': upload.id,
  });
}

/** A chunk's declared range, checked against its Content-Length before any byte is written. */
function chunkRange(ctx: RequestContext): { start: number; end: number } | undefined {
  const range = parseContentRange(ctx.req.headers['content-range']);
  const cl = ctx.req.headers['content-length'];
  if (range !== undefined && cl !== undefined && Number(cl) !== range.end - range.start + 1) {
    throw new HttpError('RANGE_INVALID', `Content-Range ${range.start}-${range.end} does not match Content-Length ${cl}`);
  }
  return range;
}

/** The request body as the last chunk of an upload, with its declared range and length. */
function finalChunk(ctx: RequestContext): FinalChunk {
  const cl = ctx.req.headers['content-length'];
  return { body: ctx.req, range: chunkRange(ctx), length: cl === undefined ? undefined : Number(cl) };
}

/** Count the request in the uploads-in-progress gauge while it receives bytes. */
async function receiving<T>(app: App, fn: () => Promise<T>): Promise<T> {
  app.uploadGauge?.inc();
  try {
    return await fn();
  } finally {
    app.uploadGauge?.dec();
  }
}

/** Out-of-order chunks are 416 with the upload's current Range, so the client can resume. */
async function withRangeHeaders<T>(ctx: RequestContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof UploadRangeError) {
      throw new HttpError('RANGE_INVALID', e.message, e.detail, {
        Location: ctx.url(paths.upload(ctx.name, ctx.params['uuid'] ?? '')),
        Range: uploadRange(e.currentSize),
      });
    }
    throw e;
  }
}

export const startUpload: Handler = async (ctx, app) => {
  const { uploads, blobs } = storesOf(ctx, app);
  const mount = ctx.query.get('mount');
  if (mount !== null) {
    const from = ctx.query.get('from');
    const fromRepository = from === null ? undefined : validateName(from);
    const mounted = await blobs.mount(ctx.name, mount, fromRepository);
    if (mounted !== undefined) {
      ctx.req.resume();
      sendCreated(ctx, mounted);
      return;
    }
  }
  const digest = ctx.query.get('digest');
  const upload = await uploads.start(ctx.name);
  if (digest !== null) {
    const blob = await receiving(app, () => uploads.finish(ctx.name, upload.id, digest, finalChunk(ctx)));
    sendCreated(ctx, blob);
    return;
  }
  ctx.req.resume();
  sendProgress(ctx, 202, upload);
};

export const patchUpload: Handler = async (ctx, app) => {
  const id = ctx.params['uuid'] ?? '';
  const range = chunkRange(ctx);
  const upload = await receiving(app, () => withRangeHeaders(ctx, () => app.registry.uploads.append(ctx.name, id, ctx.req, range)));
  sendProgress(ctx, 202, upload);
};

export const putUpload: Handler = async (ctx, app) => {
  const id = ctx.params['uuid'] ?? '';
  const digest = ctx.query.get('digest') ?? undefined;
  const final = hasBody(ctx.req) ? finalChunk(ctx) : undefined;
  if (final === undefined) ctx.req.resume();
  const blob = await receiving(app, () => withRangeHeaders(ctx, () => storesOf(ctx, app).uploads.finish(ctx.name, id, digest, final)));
  sendCreated(ctx, blob);
};

export const getUpload: Handler = async (ctx, app) => {
  const upload = await app.registry.uploads.status(ctx.name, ctx.params['uuid'] ?? '');
  sendProgress(ctx, 204, upload);
};

export const deleteUpload: Handler = async (ctx, app) => {
  await app.registry.uploads.cancel(ctx.name, ctx.params['uuid'] ?? '');
  sendEmpty(ctx.res, 204);
};
