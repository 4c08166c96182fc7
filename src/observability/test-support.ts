/**
 * Reading Prometheus text exposition in tests: the value of one sample, found by metric name and
 * its exact label set (label order does not matter). Parsing the text, rather than asking
 * prom-client's objects, checks what a scraper actually sees.
 */

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The value of `name` with exactly `labels`, or undefined when the exposition has no such sample. */
export function sampleValue(exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels);
  for (const line of exposition.split('\n')) {
    const m = SAMPLE.exec(line);
    if (m === null || m[1] !== name) continue;
    const found = new Map([...(m[2] ?? '').matchAll(LABEL)].map((l) => [l[1], l[2]]));
    if (found.size === wanted.length && wanted.every(([k, v]) => found.get(k) === v)) return Number(m[3]);
  }
  return undefined;
}
