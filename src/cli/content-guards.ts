/**
 * What `berth quota` and `berth immutable` share: the server's meta store opened from its config
 * (read-only to look, read-write to edit, beside a serving berth), with the content guards built
 * as the server builds them (registry/guards.ts), closed after.
 */
import type { Backend } from '../meta/backend.ts';
import type { ContentGuards } from '../registry/guards.ts';
import type { ConfigValues } from './account-context.ts';
import type { CliIO } from './command.ts';
import { loadCliConfig, requireSharedMeta } from './config-options.ts';

export interface GuardsOptions {
  readOnly: boolean;
  /** What to tell an operator whose meta store is in memory: where the running process's settings are edited. */
  inMemory: string;
}

/** Run `fn` with the content guards over the config's meta store, closed after. */
export async function withContentGuards<T>(values: ConfigValues, io: CliIO, opts: GuardsOptions, fn: (guards: ContentGuards, backend: Backend) => Promise<T>): Promise<T> {
  const { config } = await loadCliConfig(values, io);
  requireSharedMeta(config, opts.inMemory);
  const [{ openBackend }, { contentGuards }] = await Promise.all([import('../meta/open-backend.ts'), import('../registry/guards.ts')]);
  let backend: Backend;
  try {
    backend = await openBackend(config, { readOnly: opts.readOnly });
  } catch (e) {
    throw new Error(`cannot open the meta store: ${(e as Error).message}`, { cause: e });
  }
  try {
    return await fn(contentGuards(config.access, backend, backend.meta), backend);
  } finally {
    await backend.close();
  }
}
