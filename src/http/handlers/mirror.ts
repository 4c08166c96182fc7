/**
 * GET /api/v1/mirror: the pull-through cache's upstreams with their hits, misses, bytes fetched
 * and saved, and errors, as `berth mirror status --json` prints them. 404 when not mirroring.
 */
import { HttpError } from '../errors.ts';
import type { Handler } from '../context.ts';
import { sendJson } from './json.ts';

export const getMirror: Handler = async (ctx, app) => {
  if (app.mirrorStatus === undefined) throw new HttpError('NOT_FOUND', 'this registry mirrors no upstream (no proxy section)');
  sendJson(ctx.res, 200, app.mirrorStatus());
};
