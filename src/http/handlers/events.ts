/**
 * GET /api/v1/events[?failed=true]: pending and failed notification deliveries, as `berth events
 * --json` prints them. Once accounts exist (issue 3) this is for administrators only.
 */
import { HttpError } from '../errors.ts';
import type { Handler } from '../context.ts';
import { sendJson } from './json.ts';

export const getEvents: Handler = async (ctx, app) => {
  if (app.eventsStatus === undefined) throw new HttpError('NOT_FOUND', 'notifications are not available');
  sendJson(ctx.res, 200, await app.eventsStatus(ctx.query.get('failed') === 'true'));
};
