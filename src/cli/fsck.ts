/**
 * `berth fsck [--repair] [--delete-orphans] [--json]`: hold the meta store and storage against
 * each other and check every blob's digest (src/lifecycle/fsck.ts). Progress on stderr (a bar on a
 * terminal), the report on stdout. Exit status 0 clean, 1 problems found (or left after
 * --repair), 2 a usage error or a failure to run, 78 a bad config.
 */
import { ConfigError } from '../config/errors.ts';
import type { FsckReport, Problem } from '../lifecycle/fsck.ts';
import { progressOn, type ProgressOutput } from '../migrate/progress.ts';
import { HelpRequested, parseCommandLine, UsageError } from './args.ts';
import { EX_USAGE, type CliIO, type Command } from './command.ts';
import { CONFIG_HELP, CONFIG_OPTIONS, loadCliConfig } from './config-options.ts';
import { json } from './table.ts';

const USAGE = `usage: berth fsck [--config FILE] [--profile NAME] [--repair] [--delete-orphans] [--json]

Check that the meta store and storage agree: every blob's bytes hashed against its digest
(streamed, a few at a time), a recorded blob whose file is missing or corrupt, a file nothing
records, a blob-journal entry that is torn (its file lost, or its copy bad), a manifest that
references a blob or child the registry lacks. It runs beside a serving berth.

  --repair           fix what can be fixed: restore files from the blob journal, move corrupt
                     files into /_fsck/quarantine of the storage, remove the records of lost blobs
                     that no manifest needs; report the rest
  --delete-orphans   with --repair: also delete files nothing records, once older than an hour
  --concurrency N    files hashed at once (default 4)
  --json             the report as JSON

exit status: 0 clean, 1 problems found (or left after --repair), 2 a usage error or fsck could not
run, 78 an invalid configuration

${CONFIG_HELP}`;

const OPTIONS = {
  ...CONFIG_OPTIONS,
  repair: { type: 'boolean' },
  'delete-orphans': { type: 'boolean' },
  concurrency: { type: 'string' },
  json: { type: 'boolean' },
} as const;

function line(p: Problem): string {
  const what = p.digest ?? p.path;
  const needed = p.neededBy !== undefined && p.neededBy.length > 0 && p.repair === undefined ? ` (needed by ${p.neededBy.join(', ')})` : '';
  return `${p.kind.toUpperCase().padEnd(12)} ${what}: ${p.detail}${needed}${p.repair === undefined ? '' : ` -> ${p.repair}`}`;
}

export function renderFsck(r: FsckReport): string {
  const lines = r.problems.map(line);
  lines.push(`${r.blobs} blobs (${r.bytes} bytes) recorded, ${r.files} files in storage, ${r.seconds.toFixed(1)} s`);
  if (r.problems.length === 0) lines.push('clean: no problem found');
  else if (r.repair) lines.push(`${r.problems.length} problem(s): ${r.fixed} fixed, ${r.remaining} left`);
  else lines.push(`${r.problems.length} problem(s) found; berth fsck --repair fixes what can be fixed`);
  return `${lines.join('\n')}\n`;
}

async function check(values: { config?: string; profile?: string; repair?: boolean; 'delete-orphans'?: boolean; concurrency?: string; json?: boolean }, io: CliIO): Promise<number> {
  const concurrency = Number(values.concurrency ?? '4');
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UsageError(`--concurrency must be a whole number from 1 to 64, got ${JSON.stringify(values.concurrency)}`);
  if (values['delete-orphans'] === true && values.repair !== true) throw new UsageError('--delete-orphans needs --repair');
  const { config } = await loadCliConfig(values, io);
  if (config.storage.driver === 'inmemory') throw new Error('the storage is in memory (storage.inmemory): only the running process holds it');
  const repair = values.repair === true;
  const { openBackend } = await import('../meta/open-backend.ts');
  const { createDriver } = await import('../main.ts');
  const { fsck } = await import('../lifecycle/fsck.ts');
  // without --repair, nothing is written: a read-only connection beside the serving berth
  const backend = await openBackend(config, { readOnly: !repair });
  try {
    const report = await fsck({
      driver: await createDriver(config),
      meta: backend.meta,
      inventory: backend.inventory,
      repair,
      deleteOrphans: values['delete-orphans'] === true,
      concurrency,
      progress: progressOn(io.stderr as ProgressOutput),
    });
    io.stdout.write(values.json === true ? json(report) : renderFsck(report));
    return report.ok ? 0 : 1;
  } finally {
    await backend.close();
  }
}

export const fsckCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const { values } = parseCommandLine(argv, OPTIONS);
    try {
      return await check(values, io);
    } catch (err) {
      // exit 1 means "problems found": a failure to run is 2, like a usage error
      if (err instanceof UsageError || err instanceof HelpRequested || err instanceof ConfigError) throw err;
      io.stderr.write(`berth fsck: ${err instanceof Error ? err.message : String(err)}\n`);
      return EX_USAGE;
    }
  },
};
