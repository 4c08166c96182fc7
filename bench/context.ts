// Shared state for the measurement sections, interleaving and per-phase peak RSS.
import { spawnSync } from 'node:child_process';
import type { BenchConfig } from './config.ts';
import type { SourceFile } from './payload.ts';
import { peakRssBytes, resetPeakRss } from './procs.ts';
import type { Server } from './servers.ts';
import { Section, type Column, type Ratio } from './table.ts';

export interface Ctx {
  cfg: BenchConfig;
  /** berth (when running) then distribution: the interleaving order A, B. */
  registries: Server[];
  nginx: Server;
  source: SourceFile;
  rss: Section;
  peakOverall: Map<string, number>;
  started: number;
}

export const COLUMNS: Column[] = [
  { key: 'berth', label: 'berth' },
  { key: 'distribution', label: 'distribution 2.8.2' },
  { key: 'nginx', label: 'nginx (static file)' },
];
export const RATIO: Ratio = { num: 'berth', den: 'distribution', label: 'berth/distribution' };

export function newSection(title: string, withNginx = true): Section {
  return new Section(title, withNginx ? COLUMNS : COLUMNS.filter((c) => c.key !== 'nginx'), RATIO);
}

export function log(ctx: Pick<Ctx, 'started'>, msg: string): void {
  const s = Math.round((Date.now() - ctx.started) / 1000);
  const stamp = `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  process.stderr.write(`[bench ${stamp}] ${msg}\n`);
}

export function errMsg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Flush dirty page cache so each timed push starts from the same writeback state. */
export function syncDisks(): void {
  spawnSync('sync', [], { timeout: 180_000 });
}

export const MB = 1e6;
export const MIB = 1024 * 1024;

/**
 * Run `fn` for every run and target in interleaved order (A, B, A, B, ...), adding each
 * sample to `metric`. A target that fails once is marked failed and skipped afterwards.
 * `runs`: how many rounds (default: BENCH_RUNS).
 */
export async function interleave(
  ctx: Ctx,
  sec: Section,
  metric: string,
  targets: Server[],
  fn: (t: Server, run: number) => Promise<{ value: number; errors?: number }>,
  runs = ctx.cfg.runs,
): Promise<void> {
  for (let run = 0; run < runs; run++) {
    for (const t of targets) {
      if (sec.failed(metric, t.name)) continue;
      try {
        const r = await fn(t, run);
        sec.add(metric, t.name, r.value, r.errors ?? 0);
        const e = r.errors ? ` (${r.errors} errors)` : '';
        log(ctx, `${metric} run ${run + 1}/${runs} ${t.name}: ${r.value.toFixed(2)}${e}`);
      } catch (err) {
        sec.fail(metric, t.name, errMsg(err));
        log(ctx, `${metric} ${t.name} FAILED: ${errMsg(err)}`);
      }
    }
  }
}

/** Reset the registries' peak RSS, run `fn`, then record each one's peak (MiB) under `name`. */
export async function rssPhase<T>(ctx: Ctx, name: string, fn: () => Promise<T>): Promise<T> {
  for (const r of ctx.registries) resetPeakRss(r.proc.pid);
  try {
    return await fn();
  } finally {
    for (const r of ctx.registries) {
      const peak = peakRssBytes(r.proc.pid);
      if (peak > 0) {
        ctx.rss.add(`peak RSS during ${name} (MiB)`, r.name, peak / MIB);
        ctx.peakOverall.set(r.name, Math.max(ctx.peakOverall.get(r.name) ?? 0, peak));
      }
    }
  }
}

export function sizeLabel(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(bytes % 2 ** 30 ? 2 : 0)} GiB` : `${Math.round(bytes / MIB)} MiB`;
}
