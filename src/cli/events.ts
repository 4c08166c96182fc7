/**
 * `berth events`: the notification deliveries waiting in the meta store (pending, and failed ones
 * waiting for a retry), per endpoint and one by one. Reads the database read-only, so it runs
 * beside a serving berth.
 */
import { eventsStatus, type EventsStatus } from '../events/status.ts';
import type { Backend } from '../meta/backend.ts';
import { parseCommandLine, UsageError } from './args.ts';
import { processIO, runCommand, type CliIO, type Command } from './command.ts';
import { CONFIG_HELP, CONFIG_OPTIONS, loadCliConfig } from './config-options.ts';
import { json, table } from './table.ts';

const USAGE = `usage: berth events [--config FILE] [--profile NAME] [--failed] [--json] [--limit N]

The notification deliveries waiting in the meta store: per endpoint, then one by one, oldest first.
Reads the database read-only, so it runs beside a serving berth.

  --failed      only the deliveries that failed and wait for a retry
  --json        the same as JSON
  --limit N     at most N deliveries one by one (default: 100)

${CONFIG_HELP}`;

function render(status: EventsStatus): string {
  if (status.endpoints.length === 0) return 'no pending or failed deliveries\n';
  const endpoints = table([
    ['ENDPOINT', 'PENDING', 'FAILED', 'OLDEST', 'LAST ERROR'],
    ...status.endpoints.map((e) => [e.name, String(e.pending), String(e.failed), e.oldestCreatedAt, e.lastError ?? '']),
  ]);
  if (status.deliveries.length === 0) return endpoints;
  const deliveries = table([
    ['ID', 'ENDPOINT', 'STATE', 'ATTEMPTS', 'NEXT ATTEMPT', 'ACTION', 'TARGET', 'LAST ERROR'],
    ...status.deliveries.map((d) => {
      const { event } = d;
      const target = `${event.repository}${event.tag !== undefined ? `:${event.tag}` : ''}${event.digest !== undefined ? `@${event.digest}` : ''}`;
      return [String(d.id), d.endpoint, d.state, String(d.attempts), d.nextAttemptAt, event.action, target, d.lastError ?? ''];
    }),
  ]);
  return `${endpoints}\n${deliveries}`;
}

const OPTIONS = {
  ...CONFIG_OPTIONS,
  failed: { type: 'boolean' },
  json: { type: 'boolean' },
  limit: { type: 'string' },
} as const;

export const eventsCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const { values } = parseCommandLine(argv, OPTIONS);
    const limit = Number(values.limit ?? '100');
    if (!Number.isInteger(limit) || limit < 0) throw new UsageError(`--limit must be a whole number, got ${JSON.stringify(values.limit)}`);
    const { config } = await loadCliConfig(values, io);
    const path = config.database.enabled ? 'the PostgreSQL database (database.*)' : config.meta.sqlite.path;
    if (path === ':memory:') throw new Error('the meta store is in memory (storage.inmemory); only the running process can see its queue');
    const { openBackend } = await import('../meta/open-backend.ts');
    let backend: Backend;
    try {
      backend = await openBackend(config, { readOnly: true });
    } catch (e) {
      throw new Error(`cannot open the meta store ${path}: ${(e as Error).message}`, { cause: e });
    }
    try {
      const status = await eventsStatus(backend.events, { failedOnly: values.failed === true, limit });
      io.stdout.write(values.json === true ? json(status) : render(status));
      return 0;
    } finally {
      await backend.close();
    }
  },
};

/** The command with its output captured, as `berth events ARGS` prints it. */
export function events(argv: string[], out: CliIO['stdout'] = process.stdout, err: CliIO['stderr'] = process.stderr): Promise<number> {
  return runCommand('berth events', eventsCommand, argv, { ...processIO, stdout: out, stderr: err });
}
