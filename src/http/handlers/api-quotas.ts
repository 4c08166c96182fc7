/**
 * Namespace quotas through the management API (docs/ui-api.md):
 *   GET    /api/v1/namespaces/{namespace}/quota  usage and limit: administrators, the user of that name, members of that organisation
 *   PUT    /api/v1/namespaces/{namespace}/quota  {limit: bytes or "100GiB"; 0 for none}: administrators
 *   DELETE /api/v1/namespaces/{namespace}/quota  remove the administrators' limit (the config's applies): administrators
 *   GET    /api/v1/admin/quotas                  every namespace holding content, and every one with a limit set: administrators
 * Whoever may not read a namespace's quota gets 404, as for a namespace that does not exist, so
 * that the answer tells no private namespace apart.
 */
import { z } from 'zod';
import { sizeSchema } from '../../config/auth-schema.ts';
import { isAdmin, principalName } from '../../auth/principal.ts';
import { namespaceProblem, type NamespaceQuota, type Quotas } from '../../registry/quota.ts';
import type { App, Handler, RequestContext } from '../context.ts';
import { HttpError } from '../errors.ts';
import { accessOf, iso, param, readJson } from './api-common.ts';
import { sendEmpty, sendJson } from './json.ts';

const LimitBody = z.strictObject({ limit: sizeSchema });

function quotasOf(app: App): Quotas {
  if (app.quotas === undefined) throw new HttpError('NOT_FOUND', 'this registry has no quotas');
  return app.quotas;
}

function namespaceParam(ctx: RequestContext): string {
  const namespace = param(ctx, 'namespace');
  const problem = namespaceProblem(namespace);
  if (problem !== undefined) throw new HttpError('NAME_INVALID', problem);
  return namespace;
}

export function quotaView(q: NamespaceQuota): Record<string, unknown> {
  return { ...q, updatedAt: iso(q.updatedAt) };
}

/** Whether the caller may read the namespace's usage: an administrator, the user it names, a member of the organisation it names. */
async function mayRead(ctx: RequestContext, app: App, namespace: string): Promise<boolean> {
  const actor = ctx.principal;
  if (ctx.unrestricted || isAdmin(actor)) return true;
  if (actor.kind !== 'user' || actor.restrict !== undefined) return false;
  if (actor.name === namespace) return true;
  try {
    await accessOf(app).accounts.getOrg(actor, namespace);
    return true;
  } catch {
    return false;
  }
}

/** GET /api/v1/namespaces/{namespace}/quota */
export const getQuota: Handler = async (ctx, app) => {
  const quotas = quotasOf(app);
  const namespace = namespaceParam(ctx);
  if (!(await mayRead(ctx, app, namespace))) throw new HttpError('NOT_FOUND', `no namespace ${namespace}`);
  sendJson(ctx.res, 200, quotaView(await quotas.of(namespace)));
};

/** PUT /api/v1/namespaces/{namespace}/quota */
export const putQuota: Handler = async (ctx, app) => {
  const quotas = quotasOf(app);
  const namespace = namespaceParam(ctx);
  const { limit } = await readJson(ctx, LimitBody);
  sendJson(ctx.res, 200, quotaView(await quotas.setLimit(namespace, limit, principalName(ctx.principal))));
};

/** DELETE /api/v1/namespaces/{namespace}/quota */
export const deleteQuota: Handler = async (ctx, app) => {
  const quotas = quotasOf(app);
  const namespace = namespaceParam(ctx);
  if (!(await quotas.resetLimit(namespace))) throw new HttpError('NOT_FOUND', `no limit was set for ${namespace} through the API`);
  sendEmpty(ctx.res, 204);
};

/** GET /api/v1/admin/quotas */
export const listQuotas: Handler = async (ctx, app) => {
  const quotas = quotasOf(app);
  const holding = ((await app.storageUsage?.usage())?.namespaces ?? []).map((n) => n.namespace);
  sendJson(ctx.res, 200, { namespaces: (await quotas.list(holding)).map(quotaView) });
};
