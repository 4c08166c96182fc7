/**
 * `berth retention preview`: the dry run of the retention policies in force (the config's, and
 * administrators' edits in the settings store): per repository, each tag that would go and the
 * rule that sends it, and the untagged manifests that would go. Deletes nothing; reads the
 * database read-only, so it runs beside a serving berth. Garbage collection applies the same plan.
 */
import type { Backend } from '../meta/backend.ts';
import { withSubcommands } from './command.ts';
import { CONFIG_HELP, loadCliConfig, requireSharedMeta } from './config-options.ts';
import { parse } from './account-context.ts';
import { json, table, when } from './table.ts';
import type { RetentionPlan } from '../retention/planner.ts';
import { UsageError } from './args.ts';
import { isValidName } from '../registry/reference.ts';

const USAGE = `usage: berth retention preview [--json] [--all] [--repository NAME] [--config FILE]

  preview     what the retention policies would delete now, and why: per repository, each tag
              with the rule that deletes it, then untagged manifests. Deletes nothing; garbage
              collection applies the same rules.

  --json             the plan as JSON (every tag, kept or deleted, with its rule and reason)
  --all              also list the tags that are kept, and why
  --repository NAME  only this repository

${CONFIG_HELP}`;

function render(plan: RetentionPlan, all: boolean): string {
  if (plan.repositories.length === 0) return 'no repository is covered by a retention policy\n';
  let out = '';
  let tags = 0;
  let manifests = 0;
  for (const r of plan.repositories) {
    const going = r.tags.filter((t) => t.action === 'delete');
    tags += going.length;
    manifests += r.untagged.length;
    out += `${r.repository}  (policy ${r.policy}): ${going.length} of ${r.tags.length} tags and ${r.untagged.length} untagged manifests to delete\n`;
    if (r.error !== undefined) out += `  nothing is deleted here: ${r.error}\n`;
    const shown = all ? r.tags : going;
    if (shown.length > 0) {
      out += table([
        ['  ACTION', 'TAG', 'RULE', 'PUSHED', 'LAST PULLED', 'WHY'],
        ...shown.map((t) => [`  ${t.action}`, t.tag, t.rule, when(t.pushedAt), when(t.pulledAt), t.reason]),
      ]);
    }
    if (r.untagged.length > 0) out += table([['  UNTAGGED', 'PUSHED', 'WHY'], ...r.untagged.map((m) => [`  ${m.digest}`, when(m.createdAt), m.reason])]);
  }
  return `${out}\ntotal: ${tags} tags and ${manifests} untagged manifests would be deleted in ${plan.repositories.length} repositories\n`;
}

export const retention = withSubcommands(USAGE, {
  async preview(args, io) {
    const { values } = parse(args, { json: { type: 'boolean' }, all: { type: 'boolean' }, repository: { type: 'string' } }, []);
    if (values.repository !== undefined && !isValidName(values.repository)) throw new UsageError(`--repository: ${JSON.stringify(values.repository)} is not a repository name`);
    const { config } = await loadCliConfig(values, io);
    requireSharedMeta(config, 'only the running process can see its tags');
    const [{ openBackend }, { RetentionService }, { ImmutableTags }] = await Promise.all([
      import('../meta/open-backend.ts'),
      import('../retention/service.ts'),
      import('../registry/immutable.ts'),
    ]);
    let backend: Backend;
    try {
      backend = await openBackend(config, { readOnly: true });
    } catch (e) {
      throw new Error(`cannot open the meta store: ${(e as Error).message}`, { cause: e });
    }
    try {
      // As the server plans: the same policies, and the same immutable tags kept.
      const service = new RetentionService({
        registry: { meta: backend.meta },
        store: backend.tagActivity,
        settings: backend.settings,
        config: config.retention.policies,
        immutable: new ImmutableTags(config.access.immutable, backend.settings, backend.meta),
      });
      const policies = await service.policies();
      const plan = await service.preview(values.repository);
      io.stdout.write(values.json === true ? json({ policies: policies.map((p) => p.repository), ...plan }) : render(plan, values.all === true));
      return 0;
    } finally {
      await backend.close();
    }
  },
});
