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
import type { Replication } from '../replication/service.ts';
import { parse, readNewPassword, type ConfigValues } from './account-context.ts';
import { UsageError } from './args.ts';
import { withSubcommands, type CliIO } from './command.ts';
import { CONFIG_HELP, loadCliConfig, requireSharedMeta } from './config-options.ts';
import { bytes, json, table, when } from './table.ts';

const USAGE = `usage: berth replication list [--json]
       berth replication add NAME --direction pull|push --url URL [--username USER [--password-stdin]]
                             [--repository PATTERN]... [--tag PATTERN]... [--platform OS/ARCH]... [--remoteprefix PREFIX]
                             [--schedule CRON] [--onpush] [--deletes] [--insecure]
                             [--parallel N] [--concurrency N] [--bandwidth SIZE] [--replace] [--json]
       berth replication remove NAME
       berth replication trigger NAME [--json]
       berth replication runs NAME [--limit N] [--json]

  list      the rules (the configuration file's and those added; never a password), with their last run
  add       make a rule, as replication.rules would hold it; the remote's password is asked for
            (or read from standard input with --password-stdin), kept sealed, never shown again.
            --replace changes a rule added before (its password is kept for the same URL and user)
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

const ADD_OPTIONS = {
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
  replace: { type: 'boolean' },
} as const;

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
    const { values, positionals } = parse(args, ADD_OPTIONS, ['NAME']);
    const name = positionals[0] ?? '';
    if (values.direction === undefined) throw new UsageError('give --direction pull or --direction push');
    if (values.url === undefined) throw new UsageError("give the remote's --url");
    if (values['password-stdin'] === true && values.username === undefined) throw new UsageError('--password-stdin goes with --username');
    return withReplication(values, io, async (_config, r) => {
      // with --replace and the same remote and user, no password: the stored one is kept
      const keep = values.replace === true && values.username !== undefined && values['password-stdin'] !== true && io.stdin.isTTY !== true;
      const password = values.username === undefined || keep ? undefined : await readNewPassword(io, values['password-stdin'] === true);
      const body = {
        name,
        direction: values.direction,
        remote: { url: values.url, ...(values.username !== undefined && { username: values.username }), ...(password !== undefined && { password }), insecure: values.insecure === true },
        ...(values.remoteprefix !== undefined && { remoteprefix: values.remoteprefix }),
        filters: {
          ...(values.repository !== undefined && { repositories: values.repository }),
          ...(values.tag !== undefined && { tags: values.tag }),
          ...(values.platform !== undefined && { platforms: values.platform }),
        },
        trigger: { ...(values.schedule !== undefined && { schedule: values.schedule }), onpush: values.onpush === true },
        deletes: values.deletes === true,
        ...(values.parallel !== undefined && { parallel: whole(values.parallel) }),
        ...(values.concurrency !== undefined && { concurrency: whole(values.concurrency) }),
        ...(values.bandwidth !== undefined && { bandwidth: values.bandwidth }),
      };
      const { userInfo } = await import('node:os');
      const view = values.replace === true ? await r.replace(name, body) : await r.create(body, `${userInfo().username} (berth replication add)`);
      if (values.json === true) io.stdout.write(json(view));
      else io.stderr.write(`replication rule ${view.name} ${values.replace === true ? 'replaced' : 'added'}${view.trigger.next === null ? '' : `; next run ${view.trigger.next}`}\n`);
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
