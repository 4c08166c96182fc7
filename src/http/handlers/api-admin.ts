/**
 * Administration: GET /api/v1/admin/storage, the registry's storage by namespace now and the
 * samples taken over time (observability/storage-sampler.ts). Administrators only (http/authorize.ts).
 */
import type { Handler } from '../context.ts';
import { HttpError } from '../errors.ts';
import { sendJson } from './json.ts';
import { iso } from './api-common.ts';

/** GET /api/v1/admin/storage */
export const getStorage: Handler = async (ctx, app) => {
  const store = app.storageUsage;
  if (store === undefined) throw new HttpError('NOT_FOUND', 'this registry keeps no storage usage');
  const [usage, samples] = await Promise.all([store.usage(), store.samples(0)]);
  sendJson(ctx.res, 200, {
    total: usage.total,
    namespaces: usage.namespaces,
    samples: samples.map((s) => ({ at: iso(s.at), total: s.total, namespaces: s.namespaces })),
  });
};
