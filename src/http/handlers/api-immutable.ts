/**
 * Immutable tag rules through the management API (docs/ui-api.md), administrators only
 * (http/authorize.ts):
 *   GET    /api/v1/admin/immutable                     every rule: the config's and the administrators'
 *   PUT    /api/v1/admin/immutable                     {repository, tags}: set the rule of a pattern
 *   DELETE /api/v1/admin/immutable?repository=PATTERN  lift it (a config rule is disabled, not forgotten)
 * A rule holds for administrators too: lifting it is the only way past it, and it is recorded
 * (who, when). A bad pattern is 400 naming it.
 */
import { immutableRuleBody } from '../../config/auth-schema.ts';
import { principalName } from '../../auth/principal.ts';
import type { EffectiveImmutableRule, ImmutableTags } from '../../registry/immutable.ts';
import { repositoryPatternProblem } from '../../retention/policy.ts';
import type { App, Handler } from '../context.ts';
import { HttpError } from '../errors.ts';
import { iso, readJson } from './api-common.ts';
import { sendEmpty, sendJson } from './json.ts';

function rulesOf(app: App): ImmutableTags {
  if (app.immutable === undefined) throw new HttpError('NOT_FOUND', 'this registry has no immutable tag rules');
  return app.immutable;
}

function ruleView(r: EffectiveImmutableRule): Record<string, unknown> {
  return {
    repository: r.repository,
    tags: r.tags,
    source: r.source,
    disabled: r.disabled,
    configTags: r.configTags,
    updatedBy: r.updatedBy ?? null,
    updatedAt: iso(r.updatedAt ?? null),
  };
}

/** GET /api/v1/admin/immutable */
export const listImmutableRules: Handler = async (ctx, app) => {
  sendJson(ctx.res, 200, { rules: (await rulesOf(app).rules()).map(ruleView) });
};

/** PUT /api/v1/admin/immutable */
export const putImmutableRule: Handler = async (ctx, app) => {
  const rules = rulesOf(app);
  const rule = await readJson(ctx, immutableRuleBody);
  sendJson(ctx.res, 200, ruleView(await rules.put(rule, principalName(ctx.principal))));
};

/** DELETE /api/v1/admin/immutable?repository=PATTERN */
export const deleteImmutableRule: Handler = async (ctx, app) => {
  const rules = rulesOf(app);
  const pattern = ctx.query.get('repository') ?? '';
  const problem = repositoryPatternProblem(pattern);
  if (problem !== undefined) throw new HttpError('REQUEST_INVALID', `repository: ${problem}`);
  if (!(await rules.lift(pattern, principalName(ctx.principal)))) throw new HttpError('NOT_FOUND', `no immutable tag rule of ${JSON.stringify(pattern)} is in force`);
  sendEmpty(ctx.res, 204);
};
