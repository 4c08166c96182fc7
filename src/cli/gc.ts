/**
 * `berth gc [--dry-run] [--json]`: one garbage collection run (registry/gc.ts) over the server's
 * storage and meta store, beside a serving berth or not: it is online, so pushes and pulls go on.
 * Prints what it freed (or, with --dry-run, would free) per repository; its manifest deletes
 * queue the same notifications as API deletes (actor berth-gc), which the server then sends.
 */
import { parseCommandLine } from './args.ts';
import { processIO, runCommand, type CliIO, type Command } from './command.ts';
import { CONFIG_HELP, CONFIG_OPTIONS, loadCliConfig, requireSharedMeta } from './config-options.ts';
import { bytes, json, table } from './table.ts';
import type { GcReport } from '../registry/gc.ts';
import type { Config } from '../config/schema.ts';
import { withCliRegistry } from './cli-registry.ts';

const USAGE = `usage: berth gc [--config FILE] [--profile NAME] [--dry-run] [--json]

Free what deletes left behind: blobs no manifest references (once unreferenced for
storage.gc.grace), untagged manifests (storage.gc.untagged: delete), referrers whose subject is
gone, abandoned uploads; retention's policies (retention.policies and the administrators') are
applied first. Online: run it while berth serves. Exit status 0 when the run had no
errors, 1 otherwise.

  --dry-run     only report what a run would free now
  --json        the report as JSON

${CONFIG_HELP}`;

const OPTIONS = { ...CONFIG_OPTIONS, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } } as const;

export function renderReport(r: GcReport): string {
  const verb = r.dryRun ? 'would free' : 'freed';
  const lines = [
    r.repositories.length === 0
      ? ''
      : table([['REPOSITORY', 'MANIFESTS', 'BLOBS', 'BYTES'], ...r.repositories.map((p) => [p.name, String(p.manifests), String(p.blobs), bytes(p.bytes)])]),
    `${verb} ${r.manifests} manifests and ${r.blobs} blobs, ${bytes(r.bytes)}; ${r.uploads} abandoned uploads in ${(r.durationMs / 1000).toFixed(2)} s\n`,
  ];
  if (r.deferred > 0) lines.push(`${r.deferred} blobs left for the next run (busy, or their marks ran out)\n`);
  for (const e of r.errors) lines.push(`error: ${e}\n`);
  return lines.join('');
}

/** One run over the config's storage and meta store, retention's policies applied first as the server's runs do. */
export async function collectOnce(config: Config, opts: { dryRun: boolean }, io: CliIO): Promise<GcReport> {
  const [{ createCollector }, { RetentionService }, { hostname }] = await Promise.all([
    import('../registry/gc-schedule.ts'),
    import('../retention/service.ts'),
    import('node:os'),
  ]);
  return withCliRegistry(config, io, async ({ registry, backend, driver, guards, log }) => {
    const retention = new RetentionService({
      registry,
      store: backend.tagActivity,
      settings: backend.settings,
      config: config.retention.policies,
      immutable: guards.immutable,
      log,
    });
    const collector = createCollector(config.storage.gc, {
      registry,
      store: backend.gc,
      driver,
      node: `${hostname()}:${process.pid}:cli`,
      log,
      purging: config.storage.maintenance.uploadpurging,
      deleteEnabled: config.storage.delete.enabled,
      readOnly: config.storage.maintenance.readonly.enabled,
      retention: (dryRun) => retention.apply(dryRun),
    });
    return collector.run({ dryRun: opts.dryRun, trigger: 'cli' });
  });
}

export const gcCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const { values } = parseCommandLine(argv, OPTIONS);
    const { config } = await loadCliConfig(values, io);
    requireSharedMeta(config, 'only the running process can collect (POST /api/v1/admin/gc)');
    const report = await collectOnce(config, { dryRun: values['dry-run'] === true }, io);
    io.stdout.write(values.json === true ? json(report) : renderReport(report));
    return report.errors.length === 0 ? 0 : 1;
  },
};

/** The command with its output captured, as `berth gc ARGS` prints it. */
export function gc(argv: string[], out: CliIO['stdout'] = process.stdout, err: CliIO['stderr'] = process.stderr): Promise<number> {
  return runCommand('berth gc', gcCommand, argv, { ...processIO, stdout: out, stderr: err });
}
