/**
 * Replication (src/replication/), for administrators (http/authorize.ts):
 *   GET    /api/v1/replication                  the rules (never a password), each with its last run and next scheduled one
 *   POST   /api/v1/replication                  make a rule (a rule as the config holds one): 201 with it
 *   GET    /api/v1/replication/{name}           one rule, with its last run
 *   PUT    /api/v1/replication/{name}           replace a rule made here (without remote.password: kept, for the same remote and user)
 *   DELETE /api/v1/replication/{name}           delete a rule made here, and its runs: 204
 *   POST   /api/v1/replication/{name}/trigger   run a rule now: 202 with the run as started; 409 while it runs
 *   GET    /api/v1/replication/{name}/runs      its runs, newest first (?limit, ?before), with their progress
 * Rules of the configuration file are listed and run, but changed there: PUT and DELETE answer 409.
 */
import { z } from 'zod';
import type { App, Handler, RequestContext } from '../context.ts';
import { HttpError } from '../errors.ts';
import { param, readJson } from './api-common.ts';
import { sendJson } from './json.ts';
import type { ReplicationRun } from '../../replication/model.ts';
import type { Replication, RuleView } from '../../replication/service.ts';

function serviceOf(app: App): Replication {
  if (app.replication === undefined) throw new HttpError('NOT_FOUND', 'replication is not available on this server');
  return app.replication;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function runView(r: ReplicationRun): Record<string, unknown> {
  return { id: r.id, rule: r.rule, trigger: r.trigger, status: r.status, scope: r.scope, ...r.counts, failures: r.failures, started: iso(r.startedAt), finished: iso(r.finishedAt), node: r.node };
}

async function withLastRuns(replication: Replication, views: RuleView[]): Promise<Record<string, unknown>[]> {
  const latest = await replication.latest(views.map((v) => v.name));
  return views.map((v) => {
    const last = latest.get(v.name);
    return { ...v, lastRun: last === undefined ? null : runView(last) };
  });
}

/** The body is checked by the rule's own schema (config/replication-schema.ts); here only that it is an object. */
const RuleBody = z.record(z.string(), z.unknown());

function actorName(ctx: RequestContext): string {
  return ctx.principal.kind === 'user' ? ctx.principal.name : 'anonymous';
}

/** GET /api/v1/replication */
export const listReplication: Handler = async (ctx, app) => {
  if (app.replication === undefined) {
    sendJson(ctx.res, 200, []);
    return;
  }
  sendJson(ctx.res, 200, await withLastRuns(app.replication, await app.replication.views()));
};

/** POST /api/v1/replication */
export const createReplicationRule: Handler = async (ctx, app) => {
  const body = await readJson(ctx, RuleBody);
  const replication = serviceOf(app);
  const view = await replication.create(body, actorName(ctx));
  ctx.res.setHeader('Location', `/api/v1/replication/${view.name}`);
  sendJson(ctx.res, 201, { ...view, lastRun: null });
};

/** GET /api/v1/replication/{name} */
export const getReplicationRule: Handler = async (ctx, app) => {
  const replication = serviceOf(app);
  const [view] = await withLastRuns(replication, [await replication.rule(param(ctx, 'name'))]);
  sendJson(ctx.res, 200, view);
};

/** PUT /api/v1/replication/{name} */
export const replaceReplicationRule: Handler = async (ctx, app) => {
  const body = await readJson(ctx, RuleBody);
  const replication = serviceOf(app);
  const [view] = await withLastRuns(replication, [await replication.replace(param(ctx, 'name'), body)]);
  sendJson(ctx.res, 200, view);
};

/** DELETE /api/v1/replication/{name} */
export const deleteReplicationRule: Handler = async (ctx, app) => {
  await serviceOf(app).delete(param(ctx, 'name'));
  ctx.res.statusCode = 204;
  ctx.res.end();
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
