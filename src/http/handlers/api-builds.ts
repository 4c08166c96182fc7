/**
 * Automated builds through the API (docs/builds.md):
 *   GET    /api/v1/repositories/{name}/_builds                 builds, newest first (?limit, ?before)
 *   POST   /api/v1/repositories/{name}/_builds                 {rule?, ref?}: build by hand
 *   GET    /api/v1/repositories/{name}/_builds/{id}            one build
 *   DELETE /api/v1/repositories/{name}/_builds/{id}            cancel it (queued) or stop it (running)
 *   GET    /api/v1/repositories/{name}/_builds/{id}/log        its log as text, or live as server-sent events
 *   GET    /api/v1/repositories/{name}/_builds/rules           the rules (no secrets)
 *   POST   /api/v1/repositories/{name}/_builds/rules           make one: answers the webhook URL and secret, once
 *   PUT    /api/v1/repositories/{name}/_builds/rules/{rule}    change one (its secrets stay unless a credential is given)
 *   DELETE /api/v1/repositories/{name}/_builds/rules/{rule}    remove one
 *   POST   /api/v1/repositories/{name}/builds/hook/{rule}      a Git host's webhook (its signature is the credential)
 *   GET    /api/v1/repositories/{name}/builds/badge.svg        the latest build's status as a badge
 * Who may call which is in http/authorize.ts; with builds.enabled off every one answers 404.
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { App, Handler, RequestContext } from '../context.ts';
import type { ErrorCode } from '../errcodes.ts';
import { HttpError } from '../errors.ts';
import { readBody } from '../body.ts';
import { param, readJson } from './api-common.ts';
import { sendJson } from './json.ts';
import { BuildsDisabledError } from '../../builds/errors.ts';
import type { Following, Refusal } from '../../builds/log-followers.ts';
import { FINAL_STATUSES, type BuildRule, type LogChunk } from '../../builds/model.ts';
import type { Actor } from '../../builds/service.ts';
import type { ServedBuildService } from '../../builds/setup.ts';
import { badgeSvg } from '../../builds/badge.ts';
import { buildView as buildJson, hookPath, ruleView } from '../../builds/views.ts';

/** Git hosts send a push's commits in the payload: more than the management API's 64 KiB. */
const MAX_HOOK_BYTES = 1024 * 1024;

function serviceOf(app: App): ServedBuildService {
  if (app.builds === undefined) throw new BuildsDisabledError();
  return app.builds;
}

function actorOf(ctx: RequestContext): Actor {
  const p = ctx.principal;
  return p.kind === 'user' ? { name: p.name, admin: p.admin } : { name: null, admin: ctx.unrestricted };
}

function ruleJson(ctx: RequestContext, r: BuildRule): Record<string, unknown> {
  return ruleView(r, ctx.url(hookPath(r)));
}

const RuleBody = z.strictObject({
  gitUrl: z.string(),
  sourceType: z.enum(['branch', 'tag']).default('branch'),
  source: z.string(),
  tag: z.string().default('latest'),
  dockerfile: z.string().optional(),
  context: z.string().optional(),
  buildArgs: z.record(z.string(), z.string()).optional(),
  poll: z.boolean().optional(),
  credential: z.strictObject({ kind: z.enum(['token', 'ssh']), secret: z.string() }).nullable().optional(),
});

const TriggerBody = z.strictObject({ rule: z.string().optional(), ref: z.string().min(1).max(255).optional() });

function buildId(ctx: RequestContext): number {
  const id = Number(param(ctx, 'id'));
  if (!Number.isSafeInteger(id) || id <= 0) throw new HttpError('NOT_FOUND', 'no such build');
  return id;
}

/** GET .../_builds */
export const listBuilds: Handler = async (ctx, app) => {
  const q = ctx.query;
  const limit = Math.min(Math.max(Number(q.get('limit') ?? 50) || 50, 1), 200);
  const before = q.get('before') === null ? undefined : Number(q.get('before'));
  const builds = await serviceOf(app).builds(param(ctx, 'name'), { limit, ...(before !== undefined && Number.isFinite(before) && { before }) });
  sendJson(ctx.res, 200, builds.map(buildJson));
};

/** POST .../_builds */
export const triggerBuild: Handler = async (ctx, app) => {
  const body = await readJson(ctx, TriggerBody);
  const builds = await serviceOf(app).trigger(param(ctx, 'name'), { ...(body.rule !== undefined && { rule: body.rule }), ...(body.ref !== undefined && { ref: body.ref }) }, actorOf(ctx));
  sendJson(ctx.res, 202, builds.map(buildJson));
};

/** GET .../_builds/{id} */
export const getBuild: Handler = async (ctx, app) => {
  sendJson(ctx.res, 200, buildJson(await serviceOf(app).build(param(ctx, 'name'), buildId(ctx))));
};

/** DELETE .../_builds/{id} */
export const cancelBuild: Handler = async (ctx, app) => {
  sendJson(ctx.res, 202, buildJson(await serviceOf(app).cancel(param(ctx, 'name'), buildId(ctx))));
};

/** One server-sent event; every kind of line break in `data` starts a data line, so no text of a log can start a field of its own. */
function sseEvent(event: string, data: string, id?: number): string {
  return `event: ${event}\n${id === undefined ? '' : `id: ${id}\n`}${data.split(/\r\n|\r|\n/).map((l) => `data: ${l}`).join('\n')}\n\n`;
}

const logEvents = (chunks: readonly LogChunk[]): string => chunks.map((c) => sseEvent('log', c.text, c.seq)).join('');

/**
 * Write `pieces` one at a time, each once the client took the one before: a log of builds.logsize
 * (seven times that as events, for a log of empty lines) is never all in memory for a client that
 * does not read. False when the client went away.
 */
async function writePaced(res: ServerResponse, pieces: readonly string[]): Promise<boolean> {
  for (const piece of pieces) {
    if (res.destroyed) return false;
    if (!res.write(piece)) {
      const closed = await Promise.race([once(res, 'drain').then(() => false), once(res, 'close').then(() => true)]);
      if (closed) return false;
    }
  }
  return !res.destroyed;
}

/** How often a live log says it is alive (an SSE comment) while its build prints nothing. */
const KEEP_ALIVE_MS = 20_000;

/** The first chunk a live follower needs: after the Last-Event-ID an EventSource sends when it reconnects (each log event's id is its seq). */
function resumeFrom(header: string | string[] | undefined): number {
  return typeof header === 'string' && /^\d{1,15}$/.test(header) ? Number(header) + 1 : 0;
}

const REFUSED: Record<Refusal['refused'], ErrorCode> = { node: 'TOOMANYREQUESTS', build: 'TOOMANYREQUESTS', stopping: 'UNAVAILABLE' };

/**
 * GET .../_builds/{id}/log: text/plain, or text/event-stream (`log` events, then one `status` event).
 * Live, a follower of a running build shares this node's one poller of that build (builds/log-followers.ts):
 * it is refused beyond the node's caps, and cut off when its client stops taking what it is sent.
 */
export const buildLog: Handler = async (ctx, app) => {
  const service = serviceOf(app);
  const name = param(ctx, 'name');
  const id = buildId(ctx);
  const res = ctx.res;
  if (!(ctx.req.headers.accept ?? '').includes('text/event-stream')) {
    const first = await service.log(name, id);
    const length = first.chunks.reduce((n, c) => n + Buffer.byteLength(c.text), 0);
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': length, 'Cache-Control': 'no-store', 'X-Build-Status': first.build.status });
    if (await writePaced(res, first.chunks.map((c) => c.text))) res.end();
    return;
  }
  const from = resumeFrom(ctx.req.headers['last-event-id']);
  const first = await service.log(name, id, from);
  const next = (first.chunks.at(-1)?.seq ?? from - 1) + 1;
  let following: Following | undefined;
  if (!FINAL_STATUSES.has(first.build.status)) {
    const admitted = service.followers.follow(first.build, next, {
      send: (chunks) => void res.write(logEvents(chunks)),
      end: (build) => res.end(sseEvent('status', JSON.stringify(buildJson(build)))),
      unsent: () => res.writableLength,
      // a client that does not read: what it was sent goes with its connection
      drop: (reason) => (reason === 'slow' ? res.destroy() : res.end()),
    });
    if ('refused' in admitted) {
      const why = admitted.refused === 'stopping' ? 'berth is stopping' : `this node has ${admitted.limit} live followers of ${admitted.refused === 'build' ? 'this build' : 'build logs'}, the most it serves`;
      throw new HttpError(REFUSED[admitted.refused], `${why}: try again later, or read the log as text/plain`, undefined, { 'Retry-After': '10' });
    }
    following = admitted;
  }
  res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
  res.flushHeaders();
  if (following === undefined) {
    if (await writePaced(res, first.chunks.map((c) => logEvents([c])))) res.end(sseEvent('status', JSON.stringify(buildJson(first.build))));
    return;
  }
  if (first.chunks.length > 0) res.write(logEvents(first.chunks));
  res.on('close', following.leave);
  // the client went away while the log was read: its 'close' came before anyone listened
  if (res.closed) following.leave();
  // A build quiet for minutes (a long RUN step) would meet the server's idle timeout, and proxies'.
  const keepAlive = setInterval(() => res.write(': still running\n\n'), KEEP_ALIVE_MS);
  keepAlive.unref();
  try {
    await following.done;
  } finally {
    clearInterval(keepAlive);
  }
};

/** GET .../_builds/rules */
export const listRules: Handler = async (ctx, app) => {
  sendJson(ctx.res, 200, (await serviceOf(app).rules(param(ctx, 'name'))).map((r) => ruleJson(ctx, r)));
};

/** POST .../_builds/rules: the webhook's secret is in this answer and nowhere else, ever. */
export const addRule: Handler = async (ctx, app) => {
  const body = await readJson(ctx, RuleBody);
  const { rule, hookSecret } = await serviceOf(app).addRule(param(ctx, 'name'), body, actorOf(ctx));
  ctx.res.setHeader('Cache-Control', 'no-store');
  sendJson(ctx.res, 201, { ...ruleJson(ctx, rule), hookSecret });
};

/** PUT .../_builds/rules/{rule} */
export const updateRule: Handler = async (ctx, app) => {
  const body = await readJson(ctx, RuleBody);
  sendJson(ctx.res, 200, ruleJson(ctx, await serviceOf(app).updateRule(param(ctx, 'name'), param(ctx, 'rule'), body, actorOf(ctx))));
};

/** DELETE .../_builds/rules/{rule} */
export const deleteRule: Handler = async (ctx, app) => {
  await serviceOf(app).removeRule(param(ctx, 'name'), param(ctx, 'rule'));
  ctx.res.statusCode = 204;
  ctx.res.end();
};

/** POST .../builds/hook/{rule}: no login; the delivery's signature (or GitLab's token) is checked against the rule's secret. */
export const buildHook: Handler = async (ctx, app) => {
  const service = serviceOf(app);
  const raw = await readBody(ctx.req, MAX_HOOK_BYTES);
  if (raw === undefined) throw new HttpError('SIZE_EXCEEDED', `webhook deliveries are limited to ${MAX_HOOK_BYTES} bytes`);
  const { outcome, builds } = await service.hook(param(ctx, 'name'), param(ctx, 'rule'), ctx.req.headers, raw);
  sendJson(ctx.res, 202, {
    provider: outcome.provider,
    ...(outcome.kind === 'ignored' && { ignored: outcome.reason }),
    builds: builds.map((b) => ({ id: b.id, ref: b.ref, tag: b.tag, status: b.status })),
  });
};

/** GET .../builds/badge.svg */
export const buildBadge: Handler = async (ctx, app) => {
  const [latest] = await serviceOf(app).builds(param(ctx, 'name'), { limit: 1 });
  const svg = badgeSvg(latest?.status);
  ctx.res.writeHead(200, { 'Content-Type': 'image/svg+xml; charset=utf-8', 'Content-Length': Buffer.byteLength(svg), 'Cache-Control': 'no-cache' });
  ctx.res.end(svg);
};
