/**
 * Retention policies through the management API (docs/retention.md, docs/ui-api.md):
 *   GET    /api/v1/retention/policies                    the policies the caller may edit (administrators: all)
 *   PUT    /api/v1/retention/policies                    {repository, keep, delete}: set the policy of a pattern
 *   DELETE /api/v1/retention/policies?repository=PATTERN  remove it (the config's of that pattern applies again)
 *   GET    /api/v1/retention/preview[?repository=NAME | ?pattern=PATTERN]
 *                                                        the dry run of every repository (administrators), of
 *                                                        one, or of those a pattern covers (whoever may edit it)
 *   GET    /api/v1/repositories/{name}/_retention        the policy of one repository and its dry run
 * The policy routes need a signed-in user (http/authorize.ts); which pattern a caller may edit is
 * decided by RetentionService.mayEdit (administrators, or whoever may delete in every repository
 * the pattern covers), else 403. A bad pattern, regular expression or age is 400 naming it.
 */
import type { App, Handler, RequestContext } from '../context.ts';
import { HttpError } from '../errors.ts';
import { sendEmpty, sendJson } from './json.ts';
import { iso, param, readJson } from './api-common.ts';
import { retentionPolicySchema } from '../../config/retention-schema.ts';
import { policyJson, type EffectivePolicy } from '../../retention/policies.ts';
import { repositoryPatternProblem, toPolicy } from '../../retention/policy.ts';
import type { RepositoryPlan, RetentionPlan } from '../../retention/planner.ts';
import type { RetentionService } from '../../retention/service.ts';
import { isValidName } from '../../registry/reference.ts';

const PolicyBody = retentionPolicySchema(true);

function serviceOf(app: App): RetentionService {
  if (app.retention === undefined) throw new HttpError('NOT_FOUND', 'this registry has no retention policies');
  return app.retention;
}

function policyView(p: EffectivePolicy): Record<string, unknown> {
  return { ...policyJson(p), source: p.source, updatedBy: p.updatedBy ?? null, updatedAt: iso(p.updatedAt ?? null) };
}

function repositoryView(r: RepositoryPlan): Record<string, unknown> {
  return {
    repository: r.repository,
    policy: r.policy,
    error: r.error ?? null,
    tags: r.tags.map((t) => ({ tag: t.tag, digest: t.digest, action: t.action, rule: t.rule, reason: t.reason, pushedAt: iso(t.pushedAt), pulledAt: iso(t.pulledAt) })),
    untagged: r.untagged.map((m) => ({ digest: m.digest, mediaType: m.mediaType, size: m.size, createdAt: iso(m.createdAt), reason: m.reason })),
  };
}

function planView(plan: RetentionPlan): Record<string, unknown> {
  const repositories = plan.repositories.map(repositoryView);
  const tags = plan.repositories.reduce((n, r) => n + r.tags.filter((t) => t.action === 'delete').length, 0);
  const manifests = plan.repositories.reduce((n, r) => n + r.untagged.length, 0);
  return { at: iso(plan.now), deletes: { tags, manifests }, repositories };
}

async function requireEditor(ctx: RequestContext, service: RetentionService, pattern: string): Promise<void> {
  if (!(await service.mayEdit(ctx.principal, pattern, ctx.unrestricted))) {
    throw new HttpError('DENIED', `only administrators, or whoever may delete in every repository ${JSON.stringify(pattern)} covers, may change its retention policy`);
  }
}

/** GET /api/v1/retention/policies */
export const listRetentionPolicies: Handler = async (ctx, app) => {
  const service = serviceOf(app);
  const policies: EffectivePolicy[] = [];
  for (const p of await service.policies()) if (await service.mayEdit(ctx.principal, p.repository, ctx.unrestricted)) policies.push(p);
  sendJson(ctx.res, 200, { policies: policies.map(policyView) });
};

/** PUT /api/v1/retention/policies */
export const putRetentionPolicy: Handler = async (ctx, app) => {
  const service = serviceOf(app);
  const policy = await readJson(ctx, PolicyBody);
  await requireEditor(ctx, service, policy.repository);
  sendJson(ctx.res, 200, policyView(await service.put(toPolicy(policy), ctx.principal)));
};

/** DELETE /api/v1/retention/policies?repository=PATTERN */
export const deleteRetentionPolicy: Handler = async (ctx, app) => {
  const service = serviceOf(app);
  const pattern = ctx.query.get('repository') ?? '';
  const problem = repositoryPatternProblem(pattern);
  if (problem !== undefined) throw new HttpError('REQUEST_INVALID', `repository: ${problem}`);
  await requireEditor(ctx, service, pattern);
  if (!(await service.remove(pattern))) throw new HttpError('NOT_FOUND', `no retention policy was set for ${JSON.stringify(pattern)} through the API`);
  sendEmpty(ctx.res, 204);
};

/**
 * GET /api/v1/retention/preview[?repository=NAME | ?pattern=PATTERN]: everything for administrators;
 * others name a repository or pattern whose policy they may edit (a namespace's owners: `ns/*`).
 */
export const getRetentionPreview: Handler = async (ctx, app) => {
  const service = serviceOf(app);
  const repository = ctx.query.get('repository') ?? undefined;
  const pattern = ctx.query.get('pattern') ?? undefined;
  if (repository !== undefined && !isValidName(repository)) throw new HttpError('REQUEST_INVALID', `repository: ${JSON.stringify(repository)} is not a repository name`);
  const problem = pattern === undefined ? undefined : repositoryPatternProblem(pattern);
  if (problem !== undefined) throw new HttpError('REQUEST_INVALID', `pattern: ${problem}`);
  const scope = repository ?? pattern;
  if (!(await service.mayEdit(ctx.principal, scope ?? '*', ctx.unrestricted))) {
    throw new HttpError('DENIED', scope === undefined ? "only administrators may preview every repository's retention: name a repository or pattern of yours" : `you may not change the retention policy of ${JSON.stringify(scope)}`);
  }
  sendJson(ctx.res, 200, planView(await service.preview(repository, pattern)));
};

/** GET /api/v1/repositories/{name}/_retention (the repository's administrators) */
export const getRepositoryRetention: Handler = async (ctx, app) => {
  const service = serviceOf(app);
  const name = param(ctx, 'name');
  const policy = await service.policyOf(name);
  const plan = await service.preview(name);
  const repo = plan.repositories[0];
  sendJson(ctx.res, 200, {
    repository: name,
    policy: policy === undefined ? null : policyView(policy),
    mayEdit: await service.mayEdit(ctx.principal, name, ctx.unrestricted),
    at: iso(plan.now),
    preview: repo === undefined ? null : repositoryView(repo),
  });
};
