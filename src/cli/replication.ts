/**
 * `berth replication list|add|remove|trigger|runs`: the replication rules (the configuration
 * file's and those made with `add` or the API), and their runs, from the server's machine. `add`
 * and `remove` change the database the server reads (it sees a change within 15 s); `trigger`
 * runs the rule here and now (on the server's storage and database, beside a serving berth, as
 * `berth gc` does), recording the run as the server's runs are: the API and the web UI show it.
 * While the rule runs elsewhere it is refused.
 */
import type { Config } from '../config/schema.ts';
import type { ReplicationRun } from '../replication/model.ts';
import type { Replication, RuleView } from '../replication/service.ts';
import { parse, readNewPassword, type ConfigValues } from './account-context.ts';
import { UsageError, type Values } from './args.ts';
import { withSubcommands, type CliIO } from './command.ts';
import { CONFIG_HELP, loadCliConfig, requireSharedMeta } from './config-options.ts';
import { bytes, json, table, when } from './table.ts';

const USAGE = `usage: berth replication list [--json]
       berth replication add NAME --direction pull|push --url URL [--username USER [--password-stdin]]
                             [--repository PATTERN]... [--tag PATTERN]... [--platform OS/ARCH]...
                             [--remoteprefix PREFIX] [--schedule CRON] [--onpush] [--deletes] [--insecure]
                             [--parallel N] [--concurrency N] [--bandwidth SIZE] [--json]
       berth replication edit NAME [the options of add] [--no-schedule] [--no-onpush] [--no-deletes]
                             [--no-insecure] [--json]
       berth replication remove NAME
       berth replication trigger NAME [--json]
       berth replication runs NAME [--limit N] [--json]

  list      the rules (the configuration file's and those added; never a password), with their last run
  add       make a rule, as replication.rules would hold it; with --username the remote's password is
            asked for (or read from standard input with --password-stdin), kept sealed, never shown again
  edit      change a rule added before: only what the options name (a list option replaces the list);
            its password is kept for the same URL, user and --insecure, else give it with --password-stdin
  remove    delete a rule added before, and its runs (the configuration file's are changed there)
  trigger   run the rule now, here, and print how it ended (exit 1 unless it succeeded)
  runs      the rule's runs, newest first

${CONFIG_HELP}`;

async function withReplication<T>(values: ConfigValues, io: CliIO, fn: (config: Config, replication: Replication) => Promise<T>): Promise<T> {
  const { config } = await loadCliConfig(values, io);
  requireSharedMeta(config, 'replication rules and runs are kept in the database');
  const [{ withCliRegistry }, { createReplication }, { hostname }, { randomUUID }] = await Promise.all([
    import('./cli-registry.ts'),
    import('../replication/setup.ts'),
    import('node:os'),
    import('node:crypto'),
  ]);
  return withCliRegistry(config, io, async ({ registry, backend, log }) => {
    const { queueSink } = await import('../events/notifications.ts');
    const { parseAddr } = await import('../config/addr.ts');
    const sink = queueSink({ config: config.notifications, queue: backend.events, log, port: parseAddr(config.http.addr).port });
    return fn(config, createReplication({ config, backend, registry, node: `${hostname()}:${process.pid}:cli:${randomUUID()}`, log, sink }));
  });
}

const RULE_OPTIONS = {
  json: { type: 'boolean' },
  direction: { type: 'string' },
  url: { type: 'string' },
  username: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  repository: { type: 'string', multiple: true },
  tag: { type: 'string', multiple: true },
  platform: { type: 'string', multiple: true },
  remoteprefix: { type: 'string' },
  schedule: { type: 'string' },
  onpush: { type: 'boolean' },
  deletes: { type: 'boolean' },
  insecure: { type: 'boolean' },
  parallel: { type: 'string' },
  concurrency: { type: 'string' },
  bandwidth: { type: 'string' },
} as const;

const EDIT_OPTIONS = {
  ...RULE_OPTIONS,
  'no-schedule': { type: 'boolean' },
  'no-onpush': { type: 'boolean' },
  'no-deletes': { type: 'boolean' },
  'no-insecure': { type: 'boolean' },
} as const;

type RuleValues = Values<typeof RULE_OPTIONS>;

/** A rule's body as the API takes it (only what `edit` changes is written out). */
interface RuleBody {
  name?: string;
  direction?: string;
  remote: { url?: string; username?: string; password?: string; insecure: boolean };
  remoteprefix?: string;
  filters?: { repositories?: string[]; tags?: string[]; platforms?: string[] };
  trigger: { schedule?: string; onpush?: boolean };
  deletes?: boolean;
  parallel?: number | string;
  concurrency?: number | string;
  bandwidth?: number | string;
}

/** The body of a rule as shown (never with a password: the stored one is kept for the same remote). */
function bodyOf(v: RuleView): RuleBody {
  return {
    direction: v.direction,
    remote: { url: v.remote.url, ...(v.remote.username !== null && { username: v.remote.username }), insecure: v.remote.insecure },
    ...(v.remoteprefix !== null && { remoteprefix: v.remoteprefix }),
    filters: { repositories: v.filters.repositories, tags: v.filters.tags, ...(v.filters.platforms !== null && { platforms: v.filters.platforms }) },
    trigger: { ...(v.trigger.schedule !== null && { schedule: v.trigger.schedule }), onpush: v.trigger.onpush },
    deletes: v.deletes,
    parallel: v.parallel,
    concurrency: v.concurrency,
    ...(v.bandwidth !== null && { bandwidth: v.bandwidth }),
  };
}

/** `base` with the options given written over it. */
function ruleBody(values: RuleValues, base: RuleBody, password: string | undefined): RuleBody {
  const username = values.username ?? base.remote.username;
  const url = values.url ?? base.remote.url;
  return {
    ...base,
    ...(values.direction !== undefined && { direction: values.direction }),
    remote: {
      ...(url !== undefined && { url }),
      ...(username !== undefined && { username }),
      ...(password !== undefined && { password }),
      insecure: values.insecure === true || base.remote.insecure,
    },
    ...(values.remoteprefix !== undefined && { remoteprefix: values.remoteprefix }),
    filters: {
      ...base.filters,
      ...(values.repository !== undefined && { repositories: values.repository }),
      ...(values.tag !== undefined && { tags: values.tag }),
      ...(values.platform !== undefined && { platforms: values.platform }),
    },
    trigger: { ...base.trigger, ...(values.schedule !== undefined && { schedule: values.schedule }), ...(values.onpush === true && { onpush: true }) },
    deletes: values.deletes === true || base.deletes === true,
    ...(values.parallel !== undefined && { parallel: whole(values.parallel) }),
    ...(values.concurrency !== undefined && { concurrency: whole(values.concurrency) }),
    ...(values.bandwidth !== undefined && { bandwidth: values.bandwidth }),
  };
}

/** A whole number option, as the rule's schema wants it (a word stays a word, for its message). */
const whole = (text: string | undefined): number | string | undefined => (text === undefined ? undefined : /^\d+$/.test(text) ? Number(text) : text);

function runRow(r: ReplicationRun): string[] {
  return [String(r.id), r.trigger, r.status, when(r.startedAt), when(r.finishedAt), String(r.counts.copied), String(r.counts.skipped), String(r.counts.failed), String(r.counts.deleted), bytes(r.counts.bytes)];
}

const RUN_HEAD = ['RUN', 'TRIGGER', 'STATUS', 'STARTED', 'FINISHED', 'COPIED', 'SKIPPED', 'FAILED', 'DELETED', 'SENT'];

export const replication = withSubcommands(USAGE, {
  async list(args, io) {
    const { values } = parse(args, { json: { type: 'boolean' } }, []);
    return withReplication(values, io, async (_config, r) => {
      const rules = await r.views();
      const latest = await r.latest(rules.map((v) => v.name));
      const views = rules.map((v) => ({ ...v, lastRun: latest.get(v.name) ?? null }));
      if (values.json === true) io.stdout.write(json(views));
      else {
        io.stdout.write(
          table([
            ['NAME', 'SOURCE', 'DIRECTION', 'REMOTE', 'REPOSITORIES', 'TAGS', 'SCHEDULE', 'ONPUSH', 'LAST RUN'],
            ...views.map((v) => [v.name, v.source, v.direction, v.remote.url, v.filters.repositories.join(','), v.filters.tags.join(','), v.trigger.schedule ?? '-', v.trigger.onpush ? 'yes' : 'no', v.lastRun === null ? '-' : `${v.lastRun.status} ${when(v.lastRun.startedAt)}`]),
          ]),
        );
      }
      return 0;
    });
  },

  async add(args, io) {
    const { values, positionals } = parse(args, RULE_OPTIONS, ['NAME']);
    const name = positionals[0] ?? '';
    if (values.direction === undefined) throw new UsageError('give --direction pull or --direction push');
    if (values.url === undefined) throw new UsageError("give the remote's --url");
    if (values['password-stdin'] === true && values.username === undefined) throw new UsageError('--password-stdin goes with --username');
    return withReplication(values, io, async (_config, r) => {
      const password = values.username === undefined ? undefined : await readNewPassword(io, values['password-stdin'] === true);
      const { userInfo } = await import('node:os');
      const view = await r.create(ruleBody(values, { name, remote: { insecure: false }, trigger: {} }, password), `${userInfo().username} (berth replication add)`);
      if (values.json === true) io.stdout.write(json(view));
      else io.stderr.write(`replication rule ${view.name} added${view.trigger.next === null ? '' : `; next run ${view.trigger.next}`}\n`);
      return 0;
    });
  },

  async edit(args, io) {
    const { values, positionals } = parse(args, EDIT_OPTIONS, ['NAME']);
    const name = positionals[0] ?? '';
    return withReplication(values, io, async (_config, r) => {
      const password = values['password-stdin'] === true ? await readNewPassword(io, true) : undefined;
      const current = bodyOf(await r.rule(name));
      if (values['no-schedule'] === true) delete current.trigger.schedule;
      if (values['no-onpush'] === true) current.trigger.onpush = false;
      if (values['no-deletes'] === true) current.deletes = false;
      if (values['no-insecure'] === true) current.remote.insecure = false;
      const view = await r.replace(name, ruleBody(values, current, password));
      if (values.json === true) io.stdout.write(json(view));
      else io.stderr.write(`replication rule ${view.name} changed${view.trigger.next === null ? '' : `; next run ${view.trigger.next}`}\n`);
      return 0;
    });
  },

  async remove(args, io) {
    const { values, positionals } = parse(args, {}, ['NAME']);
    return withReplication(values, io, async (_config, r) => {
      await r.delete(positionals[0] ?? '');
      io.stderr.write(`replication rule ${positionals[0] ?? ''} removed, with its runs\n`);
      return 0;
    });
  },

  async trigger(args, io) {
    const { values, positionals } = parse(args, { json: { type: 'boolean' } }, ['NAME']);
    return withReplication(values, io, async (_config, r) => {
      const started = await r.trigger(positionals[0] ?? '', 'manual');
      if (values.json !== true) io.stderr.write(`run ${started.id} of ${started.rule} started\n`);
      await started.done;
      const [ended] = await r.runs(started.rule, { limit: 1, before: started.id + 1 });
      if (ended === undefined) throw new Error(`run ${started.id} was not recorded`);
      if (values.json === true) io.stdout.write(json(ended));
      else {
        io.stdout.write(table([RUN_HEAD, runRow(ended)]));
        for (const f of ended.failures) io.stdout.write(`failed: ${f.what}: ${f.reason}\n`);
      }
      return ended.status === 'succeeded' ? 0 : 1;
    });
  },

  async runs(args, io) {
    const { values, positionals } = parse(args, { json: { type: 'boolean' }, limit: { type: 'string' } }, ['NAME']);
    const limit = values.limit === undefined ? 20 : Number(values.limit);
    return withReplication(values, io, async (_config, r) => {
      const runs = await r.runs(positionals[0] ?? '', { limit: Number.isSafeInteger(limit) && limit > 0 ? Math.min(limit, 200) : 20 });
      if (values.json === true) io.stdout.write(json(runs));
      else io.stdout.write(runs.length === 0 ? 'no runs\n' : table([RUN_HEAD, ...runs.map(runRow)]));
      return 0;
    });
  },
});
