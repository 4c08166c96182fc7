/**
 * `berth replication list|trigger|runs`: the configured replication rules, and their runs, from the
 * server's machine. `trigger` runs the rule here and now (on the server's storage and database,
 * beside a serving berth, as `berth gc` does), recording the run as the server's runs are: the API
 * and the web UI show it. While the rule runs elsewhere it is refused.
 */
import type { Config } from '../config/schema.ts';
import type { ReplicationRun } from '../replication/model.ts';
import { parse, type ConfigValues } from './account-context.ts';
import { withSubcommands, type CliIO } from './command.ts';
import { CONFIG_HELP, loadCliConfig, requireSharedMeta } from './config-options.ts';
import { bytes, json, table, when } from './table.ts';

const USAGE = `usage: berth replication list [--json]
       berth replication trigger NAME [--json]
       berth replication runs NAME [--limit N] [--json]

  list      the rules of the configuration (replication.rules; never a password), with their last run
  trigger   run the rule now, here, and print how it ended (exit 1 unless it succeeded)
  runs      the rule's runs, newest first

${CONFIG_HELP}`;

async function withReplication<T>(values: ConfigValues, io: CliIO, fn: (config: Config, replication: import('../replication/service.ts').Replication) => Promise<T>): Promise<T> {
  const { config } = await loadCliConfig(values, io);
  if (config.replication.rules.length === 0) throw new Error('no replication rule is configured (replication.rules)');
  requireSharedMeta(config, 'replication runs are recorded in the database');
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
    const replication = createReplication({ config, store: backend.replication, registry, node: `${hostname()}:${process.pid}:cli:${randomUUID()}`, log, sink });
    if (replication === undefined) throw new Error('no replication rule is configured');
    return fn(config, replication);
  });
}

function runRow(r: ReplicationRun): string[] {
  return [String(r.id), r.trigger, r.status, when(r.startedAt), when(r.finishedAt), String(r.counts.copied), String(r.counts.skipped), String(r.counts.failed), String(r.counts.deleted), bytes(r.counts.bytes)];
}

const RUN_HEAD = ['RUN', 'TRIGGER', 'STATUS', 'STARTED', 'FINISHED', 'COPIED', 'SKIPPED', 'FAILED', 'DELETED', 'SENT'];

export const replication = withSubcommands(USAGE, {
  async list(args, io) {
    const { values } = parse(args, { json: { type: 'boolean' } }, []);
    return withReplication(values, io, async (_config, r) => {
      const latest = await r.latest();
      const views = r.views().map((v) => ({ ...v, lastRun: latest.get(v.name) ?? null }));
      if (values.json === true) io.stdout.write(json(views));
      else {
        io.stdout.write(
          table([
            ['NAME', 'DIRECTION', 'REMOTE', 'REPOSITORIES', 'TAGS', 'SCHEDULE', 'ONPUSH', 'LAST RUN'],
            ...views.map((v) => [v.name, v.direction, v.remote.url, v.filters.repositories.join(','), v.filters.tags.join(','), v.trigger.schedule ?? '-', v.trigger.onpush ? 'yes' : 'no', v.lastRun === null ? '-' : `${v.lastRun.status} ${when(v.lastRun.startedAt)}`]),
          ]),
        );
      }
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
