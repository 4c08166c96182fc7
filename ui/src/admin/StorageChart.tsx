/**
 * Storage over time as an SVG line chart (attributes only, colours from classes: nothing the CSP
 * would block), named for assistive technology, with the same figures in a visually hidden table.
 */
import type { StorageReport } from '../api/types.ts';
import { formatBytes, formatDate, formatDateTime } from '../lib/format.ts';

const W = 720;
const H = 260;
const M = { left: 72, right: 16, top: 12, bottom: 28 };
const MAX_POINTS = 360;
const TABLE_ROWS = 12;

interface Series {
  label: string;
  points: [number, number][];
}

function evenly<T>(items: T[], max: number): T[] {
  if (items.length <= max) return items;
  const step = (items.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => items[Math.round(i * step)] as T);
}

function niceMax(value: number): number {
  if (value < 1000) return 1000;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * magnitude >= value) return m * magnitude;
  return 10 * magnitude;
}

export function namespaceLabel(namespace: string): string {
  return namespace === '' ? 'official images' : namespace;
}

/** The samples, oldest first, ending with the report's own figures (now) when the last sample is older. */
function withNow(report: StorageReport, now = Date.now()): StorageReport['samples'] {
  const samples = report.samples.filter((s) => !Number.isNaN(Date.parse(s.at))).sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const last = samples[samples.length - 1];
  if (last === undefined || now - Date.parse(last.at) > 5_000) {
    samples.push({
      at: new Date(now).toISOString(),
      total: report.total.bytes,
      namespaces: Object.fromEntries(report.namespaces.map((n) => [n.namespace, n.bytes])),
    });
  }
  return samples;
}

export function StorageChart({ report }: { report: StorageReport }) {
  const samples = withNow(report);
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;

  const top = [...report.namespaces].sort((a, b) => b.bytes - a.bytes).slice(0, 4).map((n) => n.namespace);
  const drawn = evenly(samples, MAX_POINTS);
  const series: Series[] = [
    { label: 'Total', points: drawn.map((s) => [Date.parse(s.at), s.total]) },
    ...top.map((ns) => ({ label: namespaceLabel(ns), points: drawn.map((s): [number, number] => [Date.parse(s.at), s.namespaces[ns] ?? 0]) })),
  ];

  const t0 = Date.parse(first.at);
  const t1 = Date.parse(last.at);
  const yMax = niceMax(Math.max(...series.flatMap((s) => s.points.map((p) => p[1]))));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const x = (t: number) => M.left + (t1 === t0 ? plotW / 2 : ((t - t0) / (t1 - t0)) * plotW);
  const y = (v: number) => M.top + plotH - (v / yMax) * plotH;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  const rows = evenly(samples, TABLE_ROWS);
  // Axis labels: dates over days, times within a day or two.
  const when = t1 - t0 > 2 * 86_400_000 ? formatDate : formatDateTime;
  const summary = `Storage from ${formatDateTime(first.at)} to ${formatDateTime(last.at)}; now ${formatBytes(last.total)} in total.`;

  return (
    <figure class="chart-figure">
      <svg class="chart" viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-labelledby="storage-chart-title storage-chart-desc">
        <title id="storage-chart-title">Storage over time</title>
        <desc id="storage-chart-desc">{summary}</desc>
        {ticks.map((v) => (
          <g key={v}>
            <line class="grid" x1={M.left} x2={W - M.right} y1={y(v)} y2={y(v)} />
            <text x={M.left - 8} y={y(v) + 4} text-anchor="end">
              {formatBytes(v)}
            </text>
          </g>
        ))}
        <text x={M.left} y={H - 8} text-anchor="start">
          {when(first.at)}
        </text>
        {t1 !== t0 && (
          <text x={W - M.right} y={H - 8} text-anchor="end">
            {when(last.at)}
          </text>
        )}
        {series.map((s, i) =>
          s.points.length === 1 ? (
            <circle key={s.label} class={`line series-${i}`} cx={x(s.points[0]![0])} cy={y(s.points[0]![1])} r={4} />
          ) : (
            <polyline key={s.label} class={`line series-${i}`} points={s.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ')} />
          ),
        )}
      </svg>
      <figcaption>
        <ul class="legend" aria-label="Lines">
          {series.map((s, i) => (
            <li key={s.label} class={`series-${i}`}>
              <span class="legend-swatch" aria-hidden="true" />
              <span>{s.label}</span>
            </li>
          ))}
        </ul>
      </figcaption>
      <table class="sr-only">
        <caption>Storage over time (bytes)</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            {series.map((s) => (
              <th key={s.label} scope="col">
                {s.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.at}>
              <th scope="row">{formatDateTime(r.at)}</th>
              <td>{formatBytes(r.total)}</td>
              {top.map((ns) => (
                <td key={ns}>{formatBytes(r.namespaces[ns] ?? 0)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
