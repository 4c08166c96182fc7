// Interleaved runs over targets keyed by column (A, B, A, B...), for sections whose columns are
// not the berth/distribution/nginx servers of bench/context.ts (one node vs three, SQLite vs
// PostgreSQL). A target that fails once is marked failed and skipped afterwards.
import { errMsg, log } from './context.ts';
import type { Section } from './table.ts';

export interface Keyed {
  key: string;
}

export async function alternate<T extends Keyed>(
  ctx: { started: number },
  runs: number,
  sec: Section,
  metric: string,
  targets: readonly T[],
  fn: (t: T, run: number) => Promise<{ value: number; errors?: number }>,
): Promise<void> {
  for (let run = 0; run < runs; run++) {
    for (const t of targets) {
      if (sec.failed(metric, t.key)) continue;
      try {
        const r = await fn(t, run);
        sec.add(metric, t.key, r.value, r.errors ?? 0);
        log(ctx, `${metric} run ${run + 1}/${runs} ${t.key}: ${r.value.toFixed(2)}${r.errors ? ` (${r.errors} errors)` : ''}`);
      } catch (err) {
        sec.fail(metric, t.key, errMsg(err));
        log(ctx, `${metric} ${t.key} FAILED: ${errMsg(err)}`);
      }
    }
  }
}
