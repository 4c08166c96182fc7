/**
 * A prom-client Counter for the request path: increments are summed in a Map under a key the
 * caller builds cheaply, and handed to prom-client when the registry is scraped (its `collect`
 * hook). prom-client validates and hashes the labels on every inc (about 0.6 µs); a Map update
 * costs a tenth of that, and a scrape sees every increment made before it.
 */
import { Counter, type Registry } from 'prom-client';

interface Pending<L extends string> {
  labels: Record<L, string>;
  value: number;
}

export interface BatchedCounterConfig<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registry: Registry;
}

export class BatchedCounter<L extends string> {
  private readonly pending = new Map<string, Pending<L>>();

  constructor(config: BatchedCounterConfig<L>) {
    const pending = this.pending;
    new Counter<L>({
      name: config.name,
      help: config.help,
      labelNames: config.labelNames,
      registers: [config.registry],
      collect() {
        for (const { labels, value } of pending.values()) this.inc(labels, value);
        pending.clear();
      },
    });
  }

  /**
   * Add `value` to the series named by `key`, which must identify `labels` exactly (labels is
   * only called the first time a key is seen since the last scrape).
   */
  add(key: string, labels: () => Record<L, string>, value = 1): void {
    const entry = this.pending.get(key);
    if (entry !== undefined) entry.value += value;
    else this.pending.set(key, { labels: labels(), value });
  }
}
