/**
 * Replication (src/replication/), for administrators (http/authorize.ts):
 *   GET  /api/v1/replication                    the rules (never a password), each with its last run and next scheduled one
 *   POST /api/v1/replication/{name}/trigger     run a rule now: 202 with the run as started; 409 while it runs
 *   GET  /api/v1/replication/{name}/runs        its runs, newest first (?limit, ?before), with their progress
 * With no rule configured, the list is empty and the rest answer 404.
 */
import type { App, Handler } from '../context.ts';
import { HttpError } from '../errors.ts';
import { param } from './api-common.ts';
import { sendJson } from './json.ts';
import type { ReplicationRun } from '../../replication/model.ts';
import type { Replication } from '../../replication/service.ts';

function serviceOf(app: App): Replication {
  if (app.replication === undefined) throw new HttpError('NOT_FOUND', 'no replication rule is configured');
  return app.replication;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function runView(r: ReplicationRun): Record<string, unknown> {
  return { id: r.id, rule: r.rule, trigger: r.trigger, status: r.status, scope: r.scope, ...r.counts, failures: r.failures, started: iso(r.startedAt), finished: iso(r.finishedAt), node: r.node };
}

/** GET /api/v1/replication */
export const listReplication: Handler = async (ctx, app) => {
  if (app.replication === undefined) {
    sendJson(ctx.res, 200, []);
    return;
  }
  const latest = await app.replication.latest();
  sendJson(
    ctx.res,
    200,
    app.replication.views().map((v) => {
      const last = latest.get(v.name);
      return { ...v, lastRun: last === undefined ? null : runView(last) };
    }),
  );
};

/** POST /api/v1/replication/{name}/trigger */
export const triggerReplication: Handler = async (ctx, app) => {
  const { done: _done, ...run } = await serviceOf(app).trigger(param(ctx, 'name'), 'manual');
  sendJson(ctx.res, 202, runView(run));
};

/** GET /api/v1/replication/{name}/runs */
export const listReplicationRuns: Handler = async (ctx, app) => {
  const limit = Math.min(Math.max(Number(ctx.query.get('limit') ?? 50) || 50, 1), 200);
  const beforeText = ctx.query.get('before');
  const before = beforeText === null ? undefined : Number(beforeText);
  const runs = await serviceOf(app).runs(param(ctx, 'name'), { limit, ...(before !== undefined && Number.isSafeInteger(before) && { before }) });
  sendJson(ctx.res, 200, runs.map(runView));
};
