/** Output helpers of the commands: tables, times and JSON as the commands print them. */

/** Left-aligned columns with a header row, two spaces apart. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}

/** An epoch-milliseconds time for a table: ISO 8601 to the second, '-' for none. */
export function when(ms: number | null): string {
  return ms === null || ms === 0 ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A value as indented JSON, on a line of its own. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
