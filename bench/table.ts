// Result bookkeeping (samples per row and column, median) and markdown rendering.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Cell {
  samples: number[];
  /** Count of request-level errors seen while measuring (non-2xx, socket errors). */
  errors: number;
  /** Set when the measurement itself failed. */
  failure?: string;
}

export interface Row {
  metric: string;
  cells: Map<string, Cell>;
}

export interface Column {
  key: string;
  label: string;
}

export interface Ratio {
  num: string;
  den: string;
  label: string;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const hi = s[mid] ?? Number.NaN;
  return s.length % 2 === 1 ? hi : ((s[mid - 1] ?? hi) + hi) / 2;
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const a = Math.abs(n);
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  return n.toFixed(3);
}

/** Columns whose server did not run: their empty cells read `text` instead of blank. */
const absentColumns = new Map<string, string>();
export function markAbsent(key: string, text: string): void {
  absentColumns.set(key, text);
}

export class Section {
  readonly rows: Row[] = [];
  readonly notes: string[] = [];
  readonly footnotes: string[] = [];

  constructor(
    readonly title: string,
    readonly columns: Column[],
    readonly ratio?: Ratio,
  ) {}

  row(metric: string): Row {
    let r = this.rows.find((x) => x.metric === metric);
    if (!r) {
      r = { metric, cells: new Map() };
      this.rows.push(r);
    }
    return r;
  }

  private cell(metric: string, col: string): Cell {
    const r = this.row(metric);
    let c = r.cells.get(col);
    if (!c) {
      c = { samples: [], errors: 0 };
      r.cells.set(col, c);
    }
    return c;
  }

  add(metric: string, col: string, value: number, errors = 0): void {
    const c = this.cell(metric, col);
    c.samples.push(value);
    c.errors += errors;
  }

  fail(metric: string, col: string, message: string): void {
    this.cell(metric, col).failure = message;
  }

  failed(metric: string, col: string): boolean {
    return this.rows.find((x) => x.metric === metric)?.cells.get(col)?.failure !== undefined;
  }

  value(metric: string, col: string): number {
    const c = this.rows.find((x) => x.metric === metric)?.cells.get(col);
    return c && c.failure === undefined ? median(c.samples) : Number.NaN;
  }

  render(): string {
    const header = [...this.columns.map((c) => c.label), ...(this.ratio ? [this.ratio.label] : [])];
    const lines = [`## ${this.title}`, ''];
    for (const n of this.notes) lines.push(n);
    if (this.notes.length) lines.push('');
    lines.push(`| metric | ${header.join(' | ')} |`);
    lines.push(`| --- | ${header.map(() => '---:').join(' | ')} |`);
    const foot = [...this.footnotes];
    for (const r of this.rows) {
      const cells = this.columns.map((col) => {
        const c = r.cells.get(col.key);
        if (!c) return absentColumns.get(col.key) ?? '';
        if (c.failure !== undefined) {
          foot.push(`${col.label}, ${r.metric}: ${c.failure}`);
          return `failed [${foot.length}]`;
        }
        let s = fmt(median(c.samples));
        if (c.errors > 0) {
          foot.push(`${col.label}, ${r.metric}: ${c.errors} error responses/socket errors over all runs`);
          s += ` (!) [${foot.length}]`;
        }
        return s;
      });
      if (this.ratio) {
        const q = this.value(r.metric, this.ratio.num) / this.value(r.metric, this.ratio.den);
        cells.push(Number.isFinite(q) ? `${q.toFixed(2)}x` : '–');
      }
      lines.push(`| ${r.metric} | ${cells.join(' | ')} |`);
    }
    if (foot.length) {
      lines.push('');
      foot.forEach((f, i) => lines.push(`[${i + 1}] ${f.replace(/\s+/g, ' ').slice(0, 400)}`));
    }
    return lines.join('\n');
  }
}

function firstMatch(file: string, re: RegExp): string | undefined {
  try {
    return re.exec(readFileSync(file, 'utf8'))?.[1]?.trim();
  } catch {
    return undefined;
  }
}

export function machineHeader(extra: string[]): string {
  const cpu = firstMatch('/proc/cpuinfo', /^model name\s*:\s*(.+)$/m) ?? os.cpus()[0]?.model ?? 'unknown';
  const memKiB = Number.parseInt(firstMatch('/proc/meminfo', /^MemTotal:\s+(\d+) kB/m) ?? '0', 10);
  const mem = memKiB ? `${(memKiB / 1024 / 1024).toFixed(1)} GiB` : `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`;
  return [
    '# berth benchmark',
    '',
    `- date: ${new Date().toISOString()}`,
    `- machine: nproc ${os.availableParallelism()}, ${cpu}, ${mem} RAM, Linux ${os.release()}`,
    `- Node ${process.version}`,
    ...extra.map((e) => `- ${e}`),
    '',
    '**Absolute figures drift up to 2x on shared machines; only ratios within one run are meaningful.**',
  ].join('\n');
}
