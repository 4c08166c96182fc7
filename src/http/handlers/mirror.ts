/**
 * GET /api/v1/mirror: the pull-through cache's upstreams with their hits, misses, bytes fetched
 * and saved, and errors, as `berth mirror status --json` prints them; no upstreams when not mirroring.
 */
import type { Handler } from '../context.ts';
import { sendJson } from './json.ts';

export const getMirror: Handler = async (ctx, app) => {
  sendJson(ctx.res, 200, app.mirrorStatus?.() ?? { upstreams: [] });
};
