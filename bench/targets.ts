// 16. Issue 18's targets, read off the rows measured above (no extra runs): each row of the
// issue's table, the measured figure, the target, and met / not met.
import type { BenchConfig } from './config.ts';
import { sizeLabel } from './context.ts';
import { curlPullMetric, curlPushMetric } from './curl-transfer.ts';
import { LIMIT_ROWS } from './limits.ts';
import { fmt, type Section } from './table.ts';

/** The sections the targets are read from; a missing one reads "not measured". */
export interface TargetSources {
  curlPush?: Section;
  chunked?: Section;
  curlPull?: Section;
  load?: Section;
  smallPush?: Section;
  mirror?: Section;
  limits?: Section;
  rss: Section;
  big?: Section;
}

interface Target {
  figure: string;
  /** The measured figure, or why there is none. */
  value: number | string;
  unit: 'x' | ' MiB' | ' ms';
  op: '>=' | '<' | '<=';
  goal: number;
  /** Where the figure comes from. */
  from: string;
}

/** num/den of one row of `sec`, or why not. */
function ratio(sec: Section | undefined, metric: string, num: string, den: string): number | string {
  if (!sec) return 'not run';
  if (!sec.rows.some((r) => r.metric === metric)) return `no row "${metric}"`;
  const q = sec.value(metric, num) / sec.value(metric, den);
  return Number.isFinite(q) ? q : 'failed';
}

function value(sec: Section | undefined, metric: string, col: string): number | string {
  if (!sec) return 'not run';
  const v = sec.value(metric, col);
  return Number.isFinite(v) ? v : `no figure for ${col} in "${metric}"`;
}

function maxOf(...xs: (number | string)[]): number | string {
  const nums = xs.filter((x): x is number => typeof x === 'number');
  return nums.length ? Math.max(...nums) : (xs[0] ?? 'not run');
}

function targets(cfg: BenchConfig, s: TargetSources): Target[] {
  const curl = sizeLabel(cfg.curlBlobSize);
  const blob = sizeLabel(cfg.blobSize);
  const chunk = sizeLabel(cfg.chunkSize);
  const pullCurl = curlPullMetric({ cfg });
  const manifestRps = 'GET manifest by tag, c=64: req/s';
  const rssAll = 'peak RSS over all sections (MiB)';
  const bigPeaks = ['monolithic', 'chunked'].flatMap((k) => ['small', 'big'].map((col) => value(s.big, `${k} push: peak RSS (MiB)`, col)));
  return [
    { figure: `monolithic push, ${curl} blob, \`curl -T\` PUT`, value: ratio(s.curlPush, curlPushMetric({ cfg }), 'berth', 'distribution'), unit: 'x', op: '>=', goal: 2, from: '1b, berth/distribution' },
    { figure: `push ${blob}, ${chunk} chunks`, value: ratio(s.chunked, `push ${blob} (MB/s)`, 'berth', 'distribution'), unit: 'x', op: '>=', goal: 2, from: '2, berth/distribution' },
    { figure: `pull ${curl}, \`curl\` GET, vs distribution`, value: ratio(s.curlPull, pullCurl, 'berth', 'distribution'), unit: 'x', op: '>=', goal: 1, from: '3b, berth/distribution' },
    { figure: `pull ${curl}, \`curl\` GET, vs nginx sendfile`, value: ratio(s.curlPull, pullCurl, 'berth', 'nginx'), unit: 'x', op: '>=', goal: 0.9, from: '3b, berth/nginx' },
    { figure: 'manifest GET by tag, wrk -t2 -c64', value: ratio(s.load, manifestRps, 'berth', 'distribution'), unit: 'x', op: '>=', goal: 10, from: '4, berth/distribution req/s' },
    { figure: 'manifest GET by tag, wrk -t2 -c64: berth p99', value: value(s.load, 'GET manifest by tag, c=64: p99 (ms)', 'berth'), unit: ' ms', op: '<', goal: 20, from: '4, berth p99' },
    { figure: 'manifest GET by tag vs a bare node:http server (moonshot)', value: ratio(s.limits, LIMIT_ROWS.manifestRps, 'berth', 'limit'), unit: 'x', op: '>=', goal: 0.6, from: '15, berth/bare req/s' },
    { figure: `${cfg.smallPushes} sequential ${cfg.smallBlobSize / 1024} KiB pushes`, value: ratio(s.smallPush, 'pushes/s', 'berth', 'distribution'), unit: 'x', op: '>=', goal: 5, from: '5, berth/distribution' },
    { figure: `mirror: cold pull of ${blob} vs direct from the upstream`, value: ratio(s.mirror, `pull ${blob} (MB/s)`, 'cold', 'direct'), unit: 'x', op: '>=', goal: 0.5, from: '8, cold/direct' },
    { figure: 'mirror: warm pull vs direct', value: ratio(s.mirror, `pull ${blob} (MB/s)`, 'warm', 'direct'), unit: 'x', op: '>=', goal: 0.95, from: '8, warm/direct' },
    { figure: 'peak RSS over the whole bench (berth)', value: maxOf(value(s.rss, rssAll, 'berth'), ...bigPeaks), unit: ' MiB', op: '<', goal: 150, from: '6 (all sections) and 6b' },
    { figure: 'peak RSS flat in blob size (monolithic push)', value: ratio(s.big, 'monolithic push: peak RSS (MiB)', 'big', 'small'), unit: 'x', op: '<=', goal: 1.1, from: '6b, big/small' },
    { figure: 'peak RSS flat in blob size (chunked push)', value: ratio(s.big, 'chunked push: peak RSS (MiB)', 'big', 'small'), unit: 'x', op: '<=', goal: 1.1, from: '6b, big/small' },
  ];
}

function met(t: Target): string {
  if (typeof t.value === 'string') return 'not measured';
  const ok = t.op === '>=' ? t.value >= t.goal : t.op === '<' ? t.value < t.goal : t.value <= t.goal;
  return ok ? 'met' : '**not met**';
}

/** Section 16, rendered like the others (a markdown table under a `##` title). */
export function renderTargets(cfg: BenchConfig, sources: TargetSources): string {
  const lines = ['## 16. Issue 18 targets', ''];
  lines.push(
    'Read off the rows above (no extra runs). Ratios are medians of interleaved runs on this machine at this time; ' +
      (cfg.quick ? '**a QUICK run: smaller blobs, one run each; not the issue\'s figures.**' : 'a full run.'),
  );
  lines.push('', '| figure (issue 18) | measured | target | | from section |', '| --- | ---: | ---: | --- | --- |');
  for (const t of targets(cfg, sources)) {
    const v = typeof t.value === 'number' ? `${fmt(t.value)}${t.unit}` : t.value;
    lines.push(`| ${t.figure} | ${v} | ${t.op} ${t.goal}${t.unit} | ${met(t)} | ${t.from} |`);
  }
  return lines.join('\n');
}
