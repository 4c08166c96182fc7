/**
 * Garbage collection for administrators (http/authorize.ts: 'admin'): GET /api/v1/admin/gc, the
 * settings, what waits for review, what a run would free now (while a run goes on, the figures from
 * before it: a GET never waits for a run) and the last runs; POST runs one
 * (`{"dryRun": true}` only reports) and answers with its report when it is done.
 */
import { z } from 'zod';
import type { App, Handler } from '../context.ts';
import { HttpError } from '../errors.ts';
import { iso, readJson } from './api-common.ts';
import { sendJson } from './json.ts';

const RunBody = z.object({ dryRun: z.boolean().optional() }).strict();

function gcOf(app: App): NonNullable<App['gc']> {
  if (app.gc === undefined) throw new HttpError('NOT_FOUND', 'this registry runs no garbage collection');
  return app.gc;
}

const minutes = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/** GET /api/v1/admin/gc */
export const getGc: Handler = async (ctx, app) => {
  const gc = gcOf(app);
  const { interval, grace, untagged, window } = gc.config;
  const [queued, reclaimable, runs] = await Promise.all([gc.store.queued(), gc.collector.reclaimable(), gc.store.listRuns(20)]);
  const now = reclaimable?.report;
  sendJson(ctx.res, 200, {
    settings: { intervalSeconds: interval / 1000, graceSeconds: grace / 1000, untagged, window: window && `${minutes(window.start)}-${minutes(window.end)}` },
    running: gc.collector.busy,
    queued,
    // while a run goes on: the figures from before it (stale), or none; a GET never waits for the run
    reclaimable:
      now === undefined ? null : { manifests: now.manifests, blobs: now.blobs, bytes: now.bytes, repositories: now.repositories, asOf: iso(now.startedAt), stale: reclaimable?.stale === true },
    runs: runs.map((r) => ({ ...r, startedAt: iso(r.startedAt), finishedAt: iso(r.finishedAt) })),
  });
};

/** POST /api/v1/admin/gc */
export const postGc: Handler = async (ctx, app) => {
  const gc = gcOf(app);
  const body = await readJson(ctx, RunBody);
  const report = await gc.collector.run({ dryRun: body.dryRun === true, trigger: 'api' });
  sendJson(ctx.res, 200, { ...report, startedAt: iso(report.startedAt), finishedAt: iso(report.finishedAt) });
};
