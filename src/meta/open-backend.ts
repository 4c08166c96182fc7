/**
 * The one backend factory: PostgreSQL when `database.enabled`, else the SQLite file
 * (`meta.sqlite.path`). PostgreSQL's code and the `pg` client load only when configured.
 */
import type { Config } from '../config/schema.ts';
import type { Backend } from './backend.ts';
import { openSqliteBackend } from './sqlite/backend.ts';

export interface OpenBackendOptions {
  /** The clock of the times the stores record (tests); Date.now unless given. */
  now?: () => number;
  /** Only read: an existing, migrated database (`berth events`). */
  readOnly?: boolean;
}

export async function openBackend(config: Pick<Config, 'database' | 'meta'>, opts: OpenBackendOptions = {}): Promise<Backend> {
  if (config.database.enabled) {
    const { openPostgresBackend } = await import('./postgres/backend.ts');
    return openPostgresBackend(config.database, opts);
  }
  return openSqliteBackend({ ...config.meta.sqlite, ...opts });
}
