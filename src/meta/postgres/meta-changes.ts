/** Other nodes' removals from the meta store, heard through LISTEN berth_meta (schema/meta-changes.ts). */
import type { MetaChanges } from '../changes.ts';
import type { PgDatabase } from './database.ts';

export class PgMetaChanges implements MetaChanges {
  constructor(private readonly db: PgDatabase) {}

  subscribe(listener: (repository: string) => void): Promise<() => void> {
    return this.db.listen('berth_meta', (payload) => listener(payload === '' ? '*' : payload));
  }
}
