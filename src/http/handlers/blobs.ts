/** Blobs: HEAD and GET (whole or a byte range, or a redirect to the backend) and DELETE. */
import type { Handler } from '../context.ts';
import { parseRange } from '../headers.ts';
import { storesOf } from '../request-info.ts';
import { sendEmpty } from './json.ts';
import { sendStream } from '../stream.ts';
import { canSendfile, sendFile } from '../sendfile.ts';

function blobHeaders(digest: string, size: number): Record<string, string | number> {
  return {
    'Content-Type': 'application/octet-stream',
    'Content-Length': size,
    'Docker-Content-Digest': digest,
    'Accept-Ranges': 'bytes',
    ETag: `"${digest}"`,
    'Cache-Control': 'max-age=31536000',
  };
}

export const headBlob: Handler = async (ctx, app) => {
  const digest = ctx.params['digest'] ?? '';
  const blob = await app.registry.blobs.stat(ctx.name, digest);
  sendEmpty(ctx.res, 200, blobHeaders(blob.digest, blob.size));
};

export const getBlob: Handler = async (ctx, app) => {
  const digest = ctx.params['digest'] ?? '';
  // One store for the whole GET: its pull event knows the repository of the record its stat returned.
  const { blobs } = storesOf(ctx, app);
  const stat = await blobs.stat(ctx.name, digest);
  if (!app.options.redirectDisabled) {
    const url = await blobs.redirectURL(stat, 'GET');
    if (url !== undefined) {
      sendEmpty(ctx.res, 307, { Location: url, 'Docker-Content-Digest': stat.digest });
      return;
    }
  }
  const range = parseRange(ctx.req.headers.range, stat.size);
  const { res } = ctx;
  // Zero-copy when the connection and storage allow it, else a stream.
  const file = canSendfile(res) ? await blobs.openFile(stat, range) : undefined;
  const stream = file === undefined ? (await blobs.open(stat, range)).stream : undefined;
  if (range === undefined) {
    res.writeHead(200, blobHeaders(stat.digest, stat.size));
  } else {
    res.writeHead(206, {
      ...blobHeaders(stat.digest, range.end - range.start + 1),
      'Content-Range': `bytes ${range.start}-${range.end}/${stat.size}`,
    });
  }
  if (file !== undefined) await sendFile(res, file);
  else if (stream !== undefined) await sendStream(res, stream);
};

export const deleteBlob: Handler = async (ctx, app) => {
  const digest = ctx.params['digest'] ?? '';
  await storesOf(ctx, app).blobs.delete(ctx.name, digest);
  sendEmpty(ctx.res, 202);
};
