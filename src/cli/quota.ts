/**
 * `berth quota list|show|set|unset`: namespaces' quotas (registry/quota.ts) from the server's
 * machine, as the administrators' /api/v1/namespaces/{ns}/quota and /api/v1/admin/quotas edit
 * them: a limit set here is an administrator's override in the settings store (recorded as set by
 * `berth-cli`), replacing the config's; unset removes it, so the config's applies again. A running
 * server reads the settings store at every check (nothing is cached: meta/sqlite/settings.ts;
 * PostgreSQL's cache is told of every change), so its next push is held to the new limit.
 */
import type { Backend } from '../meta/backend.ts';
import { namespaceProblem, type NamespaceQuota, type Quotas } from '../registry/quota.ts';
import { parse, type ConfigValues } from './account-context.ts';
import { UsageError } from './args.ts';
import { withSubcommands, type CliIO } from './command.ts';
import { CONFIG_HELP } from './config-options.ts';
import { withContentGuards } from './content-guards.ts';
import { bytes, json, table, when } from './table.ts';

const USAGE = `usage: berth quota list [--json]
       berth quota show NAMESPACE [--json]
       berth quota set NAMESPACE SIZE
       berth quota unset NAMESPACE

  list             every namespace holding content or with a limit of its own: bytes used, the
                   limit, and where the limit comes from (default, config, set by an administrator)
  show NAMESPACE   one namespace's usage and limit (a user's or organisation's name)
  set NAMESPACE SIZE
                   set its limit (10GiB, 500MB, a number of bytes; 0 for none), replacing the
                   config's; the running server refuses the next push past it
  unset NAMESPACE  remove the limit set here or through /api/v1: the config's applies again

  --json           the quotas as JSON (bytes), as GET /api/v1/admin/quotas answers

${CONFIG_HELP}`;

/** NAMESPACE as the API takes it: a usage error (exit 2) for anything else. */
function namespaceArg(name: string): string {
  const why = namespaceProblem(name);
  if (why !== undefined) throw new UsageError(why);
  return name;
}

/** Run `fn` with the quotas of the server's config and settings. */
function withQuotas<T>(values: ConfigValues, io: CliIO, readOnly: boolean, fn: (quotas: Quotas, backend: Backend) => Promise<T>): Promise<T> {
  return withContentGuards(values, io, { readOnly, inMemory: 'only the running process holds its quotas; use /api/v1/namespaces/{namespace}/quota' }, (guards, backend) => fn(guards.quotas, backend));
}

const limitText = (limit: number) => (limit === 0 ? 'none' : bytes(limit));
const sourceText = (q: NamespaceQuota) => (q.source === 'api' ? `set by ${q.updatedBy ?? '?'} ${when(q.updatedAt)}` : q.source);

/** As the API shows a quota: bytes, and the time of an override in ISO 8601 (null for none). */
function view(q: NamespaceQuota): Record<string, unknown> {
  return { ...q, updatedAt: q.updatedAt === null ? null : new Date(q.updatedAt).toISOString() };
}

function render(q: NamespaceQuota): string {
  const config = q.source === 'api' ? `  config      ${limitText(q.configLimit)}\n` : '';
  const limit = `${limitText(q.limit)}${q.limit === 0 ? '' : ` (${q.limit} bytes)`}`;
  return `${q.namespace}\n  used        ${bytes(q.used)} (${q.used} bytes)\n  limit       ${limit}\n  source      ${sourceText(q)}\n${config}`;
}

export const quota = withSubcommands(USAGE, {
  async list(args, io) {
    const { values } = parse(args, { json: { type: 'boolean' } }, []);
    const all = await withQuotas(values, io, true, async (quotas, backend) => quotas.list((await backend.usage.usage()).namespaces.map((n) => n.namespace)));
    if (values.json === true) io.stdout.write(json({ namespaces: all.map(view) }));
    else if (all.length === 0) io.stdout.write('no namespace holds content or has a limit of its own\n');
    else io.stdout.write(table([['NAMESPACE', 'USED', 'LIMIT', 'SOURCE'], ...all.map((q) => [q.namespace, bytes(q.used), limitText(q.limit), sourceText(q)])]));
    return 0;
  },
  async show(args, io) {
    const { values, positionals } = parse(args, { json: { type: 'boolean' } }, ['NAMESPACE']);
    const namespace = namespaceArg(positionals[0] ?? '');
    const q = await withQuotas(values, io, true, (quotas) => quotas.of(namespace));
    io.stdout.write(values.json === true ? json(view(q)) : render(q));
    return 0;
  },
  async set(args, io) {
    const { values, positionals } = parse(args, {}, ['NAMESPACE', 'SIZE']);
    const namespace = namespaceArg(positionals[0] ?? '');
    const [{ sizeSchema }, { SYSTEM_ACTORS }] = await Promise.all([import('../config/auth-schema.ts'), import('../events/context.ts')]);
    // the API's schema: a size as the config writes it (10GiB, 500MB), or bytes; 0 for none
    const text = positionals[1] ?? '';
    const size = sizeSchema.safeParse(text);
    if (!size.success) throw new UsageError(`SIZE: ${size.error.issues[0]?.message ?? `${JSON.stringify(text)} is not a size`}`);
    const q = await withQuotas(values, io, false, (quotas) => quotas.setLimit(namespace, size.data, SYSTEM_ACTORS.cli));
    io.stdout.write(q.limit === 0 ? `${namespace} has no limit now (it holds ${bytes(q.used)})\n` : `${namespace} is limited to ${bytes(q.limit)} (${q.limit} bytes); it holds ${bytes(q.used)}\n`);
    return 0;
  },
  async unset(args, io) {
    const { values, positionals } = parse(args, {}, ['NAMESPACE']);
    const namespace = namespaceArg(positionals[0] ?? '');
    const q = await withQuotas(values, io, false, async (quotas) => {
      if (!(await quotas.resetLimit(namespace))) throw new Error(`no limit was set for ${namespace} (by berth quota set or through /api/v1): its limit is the config's`);
      return quotas.of(namespace);
    });
    io.stdout.write(`${namespace}: the limit set is removed; the config's applies: ${limitText(q.limit)} (${q.source})\n`);
    return 0;
  },
});
