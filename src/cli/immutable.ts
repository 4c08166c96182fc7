/**
 * `berth immutable list|add|remove`: immutable tag rules (registry/immutable.ts) from the server's
 * machine, as administrators edit them through /api/v1/admin/immutable, with the same validation
 * (the API's schema) and the same meaning: add sets the rule of a repository pattern (replacing
 * the config's of that pattern), remove lifts it (an administrator's rule is removed, the config's
 * disabled, recorded). Edits are recorded as made by `berth-cli`. A running server reads the
 * settings store at every push and delete (nothing cached on SQLite; PostgreSQL's cache is told of
 * every change), so the next one is held to the new rules.
 */
import { parseArgs } from 'node:util';
import type { EffectiveImmutableRule, ImmutableTags } from '../registry/immutable.ts';
import { parse, type ConfigValues } from './account-context.ts';
import { UsageError } from './args.ts';
import { withSubcommands, type CliIO } from './command.ts';
import { CONFIG_HELP, CONFIG_OPTIONS } from './config-options.ts';
import { withContentGuards } from './content-guards.ts';
import { json, table, when } from './table.ts';

const USAGE = `usage: berth immutable list [--json]
       berth immutable add REPOSITORY-GLOB TAG-GLOB...
       berth immutable remove REPOSITORY-GLOB

  list      every rule in force and lifted: the config's (access.immutable) and those set by
            administrators (here or through /api/v1), which replace the config's of their pattern
  add       make the tags matching the TAG-GLOBs (1-20; * and ?) of the repositories matching
            REPOSITORY-GLOB (* crosses /) immutable: they can be neither moved nor deleted. Sets
            the rule of that pattern, replacing the one before (a lifted config rule included)
  remove    lift the rule of REPOSITORY-GLOB: one set by an administrator is removed, the
            config's is disabled until set again

  --json    the rules as JSON, as GET /api/v1/admin/immutable answers

Quote the globs, so that the shell does not expand them: berth immutable add 'acme/*' 'v*'

${CONFIG_HELP}`;

/** Run `fn` with the immutable tag rules of the server's config and settings. */
function withRules<T>(values: ConfigValues, io: CliIO, readOnly: boolean, fn: (rules: ImmutableTags) => Promise<T>): Promise<T> {
  return withContentGuards(values, io, { readOnly, inMemory: 'only the running process holds its rules; use /api/v1/admin/immutable' }, (guards) => fn(guards.immutable));
}

/** As the API shows a rule. */
function view(r: EffectiveImmutableRule): Record<string, unknown> {
  return { repository: r.repository, tags: r.tags, source: r.source, disabled: r.disabled, configTags: r.configTags, updatedBy: r.updatedBy ?? null, updatedAt: r.updatedAt === undefined ? null : new Date(r.updatedAt).toISOString() };
}

function sourceText(r: EffectiveImmutableRule): string {
  if (r.source === 'config') return 'config';
  const by = `${r.updatedBy ?? '?'} ${when(r.updatedAt ?? null)}`;
  if (r.disabled) return `config, lifted by ${by}`;
  return r.configTags === null ? `set by ${by}` : `set by ${by}, replacing the config's ${r.configTags.join(' ')}`;
}

function render(rules: EffectiveImmutableRule[]): string {
  if (rules.length === 0) return 'no immutable tag rule\n';
  return table([['REPOSITORY', 'TAGS', 'SOURCE'], ...rules.map((r) => [r.repository, r.disabled ? '(lifted)' : r.tags.join(' '), sourceText(r)])]);
}

export const immutable = withSubcommands(USAGE, {
  async list(args, io) {
    const { values } = parse(args, { json: { type: 'boolean' } }, []);
    const rules = await withRules(values, io, true, (r) => r.rules());
    io.stdout.write(values.json === true ? json({ rules: rules.map(view) }) : render(rules));
    return 0;
  },
  async add(args, io) {
    // REPOSITORY-GLOB and one or more TAG-GLOBs: as many names as there are positionals, two at least
    const given = parseArgs({ args, options: CONFIG_OPTIONS, allowPositionals: true, strict: false }).positionals.length;
    const { values, positionals } = parse(args, {}, ['REPOSITORY-GLOB', ...Array<string>(Math.max(1, given - 1)).fill('TAG-GLOB')]);
    const [repository = '', ...tags] = positionals;
    const [{ immutableRuleBody }, { SYSTEM_ACTORS }] = await Promise.all([import('../config/auth-schema.ts'), import('../events/context.ts')]);
    // the API's schema, so that the CLI takes exactly the rules PUT /api/v1/admin/immutable takes
    const rule = immutableRuleBody.safeParse({ repository, tags });
    if (!rule.success) {
      const issue = rule.error.issues[0];
      const where = issue?.path[0] === 'tags' ? 'TAG-GLOB' : 'REPOSITORY-GLOB';
      throw new UsageError(`${where}: ${issue?.message ?? 'not a pattern'}`);
    }
    const set = await withRules(values, io, false, (r) => r.put(rule.data, SYSTEM_ACTORS.cli));
    io.stdout.write(`tags ${set.tags.join(' ')} of ${set.repository} are immutable\n`);
    return 0;
  },
  async remove(args, io) {
    const { values, positionals } = parse(args, {}, ['REPOSITORY-GLOB']);
    const [pattern = ''] = positionals;
    const [{ repositoryPatternProblem }, { SYSTEM_ACTORS }] = await Promise.all([import('../retention/policy.ts'), import('../events/context.ts')]);
    const problem = repositoryPatternProblem(pattern);
    if (problem !== undefined) throw new UsageError(`REPOSITORY-GLOB: ${problem}`);
    const rule = await withRules(values, io, false, async (r) => {
      if (!(await r.lift(pattern, SYSTEM_ACTORS.cli))) throw new Error(`no immutable tag rule of ${JSON.stringify(pattern)} is in force`);
      return (await r.rules()).find((x) => x.repository === pattern);
    });
    io.stdout.write(rule === undefined ? `the rule of ${pattern} is removed\n` : `the config's rule of ${pattern} is lifted (berth immutable add sets one again)\n`);
    return 0;
  },
});
