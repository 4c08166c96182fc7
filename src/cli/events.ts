/**
 * `berth events [--config FILE] [--failed] [--json] [--limit N]`: the notification deliveries
 * waiting in the meta store (pending, and failed ones waiting for a retry), per endpoint and one
 * by one. Reads the database read-only, so it runs beside a serving berth.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { ConfigError } from '../config/errors.ts';
import { openQueueReadOnly } from '../events/sqlite-queue.ts';
import { eventsStatus, type EventsStatus } from '../events/status.ts';

interface Output {
  write(text: string): unknown;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}

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
  config: { type: 'string', short: 'c' },
  failed: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  limit: { type: 'string', default: '100' },
} as const;

export async function events(argv: string[], out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false }));
  } catch (e) {
    err.write(`berth events: ${(e as Error).message}\n`);
    return 2;
  }
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 0) {
    err.write(`berth events: --limit must be a whole number, got ${JSON.stringify(values.limit)}\n`);
    return 2;
  }
  const file = values.config ?? process.env['REGISTRY_CONFIGURATION_PATH'];
  let path: string;
  try {
    path = loadConfig({ file, env: process.env }).config.meta.sqlite.path;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err.write(`berth: invalid configuration\n${e.message}\n`);
    return 78;
  }
  if (path === ':memory:') {
    err.write('berth events: the meta store is in memory (storage.inmemory); only the running process can see its queue\n');
    return 1;
  }
  let opened: ReturnType<typeof openQueueReadOnly>;
  try {
    opened = openQueueReadOnly(path);
  } catch (e) {
    err.write(`berth events: cannot open the meta store ${path}: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    const status: EventsStatus =
      opened === undefined ? { endpoints: [], deliveries: [] } : await eventsStatus(opened.queue, { failedOnly: values.failed, limit });
    out.write(values.json ? `${JSON.stringify(status, null, 2)}\n` : render(status));
    return 0;
  } finally {
    opened?.db.close();
  }
}
