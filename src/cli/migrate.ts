/**
 * `berth migrate --to TARGET.yml`: move this registry (its storage and SQLite database, from
 * --config) into the target's PostgreSQL database and storage (src/migrate/). Progress goes to
 * stderr (bars on a terminal); the summary to stdout, as JSON with --json.
 */
import type { MigrateSummary } from '../migrate/migrate.ts';
import { progressOn, type ProgressOutput } from '../migrate/progress.ts';
import { parseCommandLine, UsageError } from './args.ts';
import type { CliIO, Command } from './command.ts';
import { CONFIG_HELP, CONFIG_OPTIONS, loadCliConfig } from './config-options.ts';
import { json } from './table.ts';

const USAGE = `usage: berth migrate --to TARGET.yml [--config FILE] [--profile NAME] [--dry-run] [--json]

Copy this registry (the storage and SQLite database of --config) into the PostgreSQL database
(database.enabled) and storage (S3 in practice) of TARGET.yml: every blob, streamed and checked
against its digest (blobs the target holds with the right size are skipped), then every table's
rows in one transaction (only once all blobs are there), then the token signing keys, then a check
that the target's tables and blobs match. It only reads the source, so it runs beside the serving
registry; each run catches up on what the source changed since the last. For the last pass, make
the source read-only (storage.maintenance.readonly.enabled: true), run it again, then start berth
on TARGET.yml.

  --to FILE     the target config: database.enabled and the target storage (required).
                REGISTRY_* variables apply to the source only; the file may use _env:VAR values
  --dry-run     count what would be copied; write nothing
  --json        print the summary as JSON (blobs, rows per table, keys, verification, seconds)

exit status: 0 copied and verified, 1 a blob could not be copied or the check found differences,
2 a usage error, 78 an unusable config (no database in the target, the same database)

${CONFIG_HELP}`;

const OPTIONS = {
  ...CONFIG_OPTIONS,
  to: { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** Variables that override a config (config/env.ts): the source's, not the target's. */
const SOURCE_ONLY = /^(REGISTRY_|AWS_BUCKET$|AWS_KEY$|AWS_SECRET$|STORAGE_PATH$|SETTINGS_FLAVOR$)/;

function bytes(n: number): string {
  return n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

function render(s: MigrateSummary, targetFile: string): string {
  const lines: string[] = [];
  const b = s.blobs;
  lines.push(`blobs: ${b.total} in the source, ${b.copied} ${s.dryRun ? 'to copy' : 'copied'} (${bytes(b.bytes)}), ${b.skipped} already in the target`);
  for (const f of b.failed) lines.push(`  FAILED ${f.digest}: ${f.reason}`);
  if (b.failed.length > 0) {
    lines.push('no metadata was copied: fix or remove the failed blobs in the source and run again');
    return `${lines.join('\n')}\n`;
  }
  const tables = Object.entries(s.tables);
  const written = tables.reduce((sum, [, t]) => sum + t.written + t.deleted, 0);
  lines.push(`tables: ${tables.length}, ${tables.reduce((sum, [, t]) => sum + t.rows, 0)} rows${s.dryRun ? '' : `, ${written} written or deleted`}`);
  for (const [name, t] of tables) {
    const changes = s.dryRun ? '' : `, ${t.written} written${t.deleted > 0 ? `, ${t.deleted} deleted` : ''}`;
    lines.push(`  ${name.padEnd(20)} ${String(t.rows).padStart(8)} rows${changes}`);
  }
  lines.push(`signing keys: ${s.keys.total} in the source, ${s.keys.copied} ${s.dryRun ? 'to copy' : 'copied'}`);
  if (s.verify !== undefined) {
    const v = s.verify;
    if (s.ok) lines.push(`verified: ${tables.length} tables' row counts and ${v.blobsChecked} blobs in the target`);
    for (const m of v.tables) lines.push(`  DIFFERS ${m.table}: ${m.source} rows in the source, ${m.target} in the target`);
    for (const d of v.blobsMissing) lines.push(`  MISSING ${d} in the target's storage`);
  }
  lines.push(`${s.seconds.toFixed(1)} s`);
  if (!s.dryRun) {
    lines.push(
      written > 0 || b.copied > 0
        ? `next: run it again with the source read-only (storage.maintenance.readonly.enabled: true) for the final pass, then start berth with --config ${targetFile}`
        : `nothing changed since the last run: the target is up to date; start berth with --config ${targetFile}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export const migrateCommand: Command = {
  usage: USAGE,
  async run(argv, io: CliIO) {
    const { values } = parseCommandLine(argv, OPTIONS);
    if (values.to === undefined) throw new UsageError('missing --to TARGET.yml');
    const source = await loadCliConfig(values, io);
    const targetEnv = Object.fromEntries(Object.entries(io.env).filter(([k]) => !SOURCE_ONLY.test(k)));
    const target = await loadCliConfig({ config: values.to }, { ...io, env: targetEnv });
    const { migrate } = await import('../migrate/migrate.ts');
    const summary = await migrate({
      source: source.config,
      target: target.config,
      sourceFile: source.file,
      targetFile: values.to,
      dryRun: values['dry-run'] === true,
      progress: progressOn(io.stderr as ProgressOutput),
    });
    io.stdout.write(values.json === true ? json(summary) : render(summary, values.to));
    return summary.ok ? 0 : 1;
  },
};
