/**
 * `berth backup DEST [--with-blobs]` and `berth restore SRC` (src/lifecycle/backup*.ts). Progress
 * on stderr, the summary on stdout (JSON with --json). With PostgreSQL as the meta store, both say
 * that pg_dump / pg_restore are the tools, with the command for the configured database, and exit 1
 * having done nothing.
 */
import type { Config } from '../config/schema.ts';
import { databaseSettings } from '../config/database-schema.ts';
import type { BackupSummary } from '../lifecycle/backup.ts';
import type { RestoreSummary } from '../lifecycle/backup-restore.ts';
import { progressOn, type ProgressOutput } from '../migrate/progress.ts';
import type { StorageDriver } from '../storage/driver.ts';
import { parseCommandLine } from './args.ts';
import type { CliIO, Command } from './command.ts';
import { CONFIG_HELP, CONFIG_OPTIONS, loadCliConfig } from './config-options.ts';
import { json } from './table.ts';

const BACKUP_USAGE = `usage: berth backup DEST [--config FILE] [--profile NAME] [--with-blobs] [--json]

Take a consistent snapshot of the SQLite meta store while berth serves (SQLite's online backup),
into DEST (new, or an empty directory, outside the storage): berth.db, blobs.tsv (every blob the
snapshot needs: digest and size), the token signing keys, backup.json (written last). Restore it
with berth restore DEST. See docs/backup.md for the recovery procedure.

  --with-blobs   also put those blobs into DEST/blobs (hard links when storage is the filesystem
                 on the same device, else verified copies)
  --json         the summary as JSON

With PostgreSQL (database.enabled), back up with pg_dump: this prints the command.

exit status: 0 done, 1 refused or failed (DEST not empty, a blob missing), 2 a usage error,
78 an invalid configuration

${CONFIG_HELP}`;

const RESTORE_USAGE = `usage: berth restore SRC [--config FILE] [--profile NAME] [--json]

Put the backup in SRC (made by berth backup) back as this config's meta store, berth stopped: the
snapshot is checked (SQLite's integrity check, schema migrations), the database in place is
refused while a process holds it open (a serving berth) and otherwise kept as
<file>.before-restore-<time>; then every blob the snapshot needs is looked for in storage, copied
in from SRC/blobs when a --with-blobs backup has it, and reported when missing.

  --json   the summary as JSON

exit status: 0 restored with every blob present, 1 refused, or restored with blobs missing (listed),
2 a usage error, 78 an invalid configuration

${CONFIG_HELP}`;

const BACKUP_OPTIONS = { ...CONFIG_OPTIONS, 'with-blobs': { type: 'boolean' }, json: { type: 'boolean' } } as const;
const RESTORE_OPTIONS = { ...CONFIG_OPTIONS, json: { type: 'boolean' } } as const;

/** The database's URL without its password (taken from PGPASSWORD or ~/.pgpass), quoted for a shell. */
function databaseUrl(config: Config): string {
  const url = new URL(databaseSettings(config.database).connectionString);
  url.password = '';
  return `'${url.toString().replaceAll("'", "'\\''")}'`;
}

function postgresAdvice(config: Config, what: 'backup' | 'restore', path: string): string {
  const url = databaseUrl(config);
  const dump = `${path.replace(/\/+$/, '')}/berth.pgdump`;
  const command = what === 'backup'
    ? `pg_dump --format=custom --file='${dump}' ${url}`
    : `pg_restore --clean --if-exists --single-transaction --dbname=${url} '${dump}'`;
  return `the meta store is PostgreSQL (database.enabled): berth ${what} only handles SQLite. Use ${what === 'backup' ? 'pg_dump, which takes a consistent snapshot while berth serves' : 'pg_restore, with every berth node stopped'}:
  ${command}
(the password from PGPASSWORD or ~/.pgpass). The blobs are in the storage (${config.storage.driver}): keep them with its own versioning or replication.
`;
}

/** The storage driver of the config, opened when first needed (the paths are checked before). */
function opener(config: Config): () => Promise<StorageDriver> {
  return async () => (await import('../main.ts')).createDriver(config);
}

function renderBackup(s: BackupSummary): string {
  const lines = [`snapshot of ${s.source} in ${s.dest}: ${s.blobs} blobs (${s.bytes} bytes) listed in blobs.tsv, ${s.journaled} of them held in its blob journal, ${s.keys} signing key(s)`];
  if (s.withBlobs) lines.push(`blobs: ${s.linked} hard-linked, ${s.copied} copied, ${s.missing.length} missing or corrupt in storage (berth fsck tells more)`);
  for (const d of s.missing) lines.push(`  MISSING ${d}`);
  lines.push(`${s.seconds.toFixed(1)} s`);
  return `${lines.join('\n')}\n`;
}

function renderRestore(s: RestoreSummary): string {
  const lines = [`restored ${s.database} from the backup of ${s.createdAt}${s.previous === undefined ? '' : ` (the database it replaced is ${s.previous})`}`];
  lines.push(`blobs: ${s.blobs} needed, ${s.present} in storage, ${s.restored} copied in from the backup, ${s.journaled} in the snapshot's blob journal (written back when berth starts), ${s.missing.length} missing`);
  for (const d of s.missing) lines.push(`  MISSING ${d}`);
  if (s.keys > 0) lines.push(`signing keys: ${s.keys} added`);
  lines.push(s.ok ? 'next: start berth, then run berth fsck' : 'the missing blobs are lost unless another copy of the storage has them; start berth, then berth fsck lists the manifests that need them');
  return `${lines.join('\n')}\n`;
}

/** The config, or undefined when its meta store is PostgreSQL (what to use instead is on stderr). */
async function sqliteConfig(what: 'backup' | 'restore', dir: string, values: { config?: string; profile?: string }, io: CliIO): Promise<Config | undefined> {
  const { config } = await loadCliConfig(values, io);
  if (!config.database.enabled) return config;
  io.stderr.write(`berth ${what}: ${postgresAdvice(config, what, dir)}`);
  return undefined;
}

export const backupCommand: Command = {
  usage: BACKUP_USAGE,
  async run(argv, io: CliIO) {
    const { values, positionals } = parseCommandLine(argv, BACKUP_OPTIONS, ['DEST']);
    const dest = positionals[0] ?? '';
    const config = await sqliteConfig('backup', dest, values, io);
    if (config === undefined) return 1;
    if (config.meta.sqlite.path === ':memory:') throw new Error('the meta store is in memory (meta.sqlite.path is :memory:): there is nothing to back up');
    const { backup } = await import('../lifecycle/backup.ts');
    const { keyDirectory } = await import('../auth/setup.ts');
    const summary = await backup({ config, dest, withBlobs: values['with-blobs'] === true, openDriver: opener(config), progress: progressOn(io.stderr as ProgressOutput) }, keyDirectory(config));
    io.stdout.write(values.json === true ? json(summary) : renderBackup(summary));
    return summary.missing.length === 0 ? 0 : 1;
  },
};

export const restoreCommand: Command = {
  usage: RESTORE_USAGE,
  async run(argv, io: CliIO) {
    const { values, positionals } = parseCommandLine(argv, RESTORE_OPTIONS, ['SRC']);
    const src = positionals[0] ?? '';
    const config = await sqliteConfig('restore', src, values, io);
    if (config === undefined) return 1;
    const { restore } = await import('../lifecycle/backup-restore.ts');
    const { keyDirectory } = await import('../auth/setup.ts');
    const summary = await restore({ config, src, openDriver: opener(config), keyDir: keyDirectory(config), progress: progressOn(io.stderr as ProgressOutput) });
    io.stdout.write(values.json === true ? json(summary) : renderRestore(summary));
    return summary.ok ? 0 : 1;
  },
};
