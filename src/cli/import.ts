/**
 * `berth import ROOT`: adopt a distribution (registry:2) storage root into the berth of --config
 * (src/lifecycle/import/). Progress goes to stderr (bars on a terminal, lines elsewhere); the
 * summary to stdout, as JSON with --json.
 */
import type { ImportSummary } from '../lifecycle/import/import.ts';
import { progressOn, type ProgressOutput } from '../migrate/progress.ts';
import { parseCommandLine, UsageError } from './args.ts';
import type { CliIO, Command } from './command.ts';
import { CONFIG_HELP, CONFIG_OPTIONS, loadCliConfig } from './config-options.ts';
import { json, table } from './table.ts';

const USAGE = `usage: berth import ROOT [--config FILE] [--profile NAME] [--move | --copy] [--overwrite-tags] [--dry-run] [--json]

Adopt a distribution (registry:2) root directory: the rootdirectory of its filesystem storage,
holding docker/registry/v2/{repositories,blobs}. Every blob its repositories reference is
verified against its sha256 (a corrupt one is reported and skipped, never imported) and placed in
berth's storage: hard-linked when berth's filesystem storage is on the same filesystem (no copy,
ROOT stays intact), streamed through the storage driver otherwise (another filesystem, S3). Then
each repository's layer links, manifests (Docker schema2, manifest lists, OCI manifests and
indexes; referrers keep their subject) and tags are recorded. Upload leftovers and blobs nothing
references are counted and left behind. It only adds: run it with berth stopped or serving, and
again at any time: a second run imports nothing new, an interrupted one continues.

  --move            rename blobs out of ROOT instead of hard-linking them (ROOT is no longer a
                    working registry:2 afterwards)
  --copy            stream every blob through the storage driver, even on the same filesystem
  --overwrite-tags  a tag berth already points elsewhere is moved to the source's manifest
                    (default: berth's is kept and the tag reported as skipped)
  --dry-run         verify every blob and count what would be imported; write nothing
  --json            print the summary as JSON

exit status: 0 everything imported (or already there), 1 something was skipped (each listed with
its reason) or the import failed, 2 a usage error, 78 an unusable config

${CONFIG_HELP}`;

const OPTIONS = {
  ...CONFIG_OPTIONS,
  move: { type: 'boolean' },
  copy: { type: 'boolean' },
  'overwrite-tags': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let i = 0;
  for (; value >= 1024 && i < units.length - 1; i++) value /= 1024;
  return `${i === 0 ? value : value.toFixed(1)} ${units[i] ?? 'B'}`;
}

const HOW = { link: 'hard links', move: 'renames', stream: 'copies through the storage driver' } as const;

/** The summary as an operator reads it: a table of what was found, imported, already there, skipped. */
export function renderImport(s: ImportSummary): string {
  const verb = s.dryRun ? 'to import' : 'imported';
  const row = (name: string, c: { found: number; present: number; skipped: number }, imported: number): string[] =>
    [name, String(c.found), String(imported), String(c.present), String(c.skipped)];
  const b = s.blobs;
  const lines = [
    `${s.dryRun ? 'dry run: nothing written. ' : ''}from ${s.root}, blobs by ${HOW[s.transfer]}`,
    '',
    table([
      ['', 'found', verb, 'already', 'skipped'],
      row('repositories', s.repositories, s.repositories.imported),
      row('tags', s.tags, s.tags.imported),
      row('manifests', s.manifests, s.manifests.imported),
      row('layer links', s.layerLinks, s.layerLinks.imported),
      row('blobs', b, b.linked + b.moved + b.copied),
    ]).trimEnd(),
    '',
    `blobs ${verb}: ${b.linked} linked, ${b.moved} moved, ${b.copied} copied (${bytes(b.bytes)})`,
    `left behind: ${s.uploadsSkipped} upload leftover(s), ${s.unreferencedBlobs} blob(s) no repository references`,
  ];
  if (s.skipped.length > 0) {
    lines.push(`skipped (${s.skipped.length}):`);
    for (const k of s.skipped) lines.push(`  ${k.kind} ${k.name}: ${k.reason}`);
  }
  if (s.upToDate) lines.push(`nothing new: berth already holds everything ${s.skipped.length > 0 ? 'importable ' : ''}from ${s.root}`);
  lines.push(`${s.seconds.toFixed(1)} s`);
  return `${lines.join('\n')}\n`;
}

export const importCommand: Command = {
  usage: USAGE,
  async run(argv, io: CliIO) {
    const { values, positionals } = parseCommandLine(argv, OPTIONS, ['ROOT']);
    if (values.move === true && values.copy === true) throw new UsageError('--move and --copy exclude each other');
    const [root = ''] = positionals;
    const loaded = await loadCliConfig(values, io);
    const { importRegistry } = await import('../lifecycle/import/import.ts');
    const summary = await importRegistry({
      root,
      config: loaded.config,
      ...(loaded.file !== undefined && { configFile: loaded.file }),
      transfer: values.move === true ? 'move' : values.copy === true ? 'stream' : 'link',
      dryRun: values['dry-run'] === true,
      overwriteTags: values['overwrite-tags'] === true,
      progress: progressOn(io.stderr as ProgressOutput),
    });
    io.stdout.write(values.json === true ? json(summary) : renderImport(summary));
    return summary.ok ? 0 : 1;
  },
};
