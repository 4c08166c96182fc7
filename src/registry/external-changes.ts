/**
 * Caches of what the meta store holds (resolved manifests, blob links) must forget it when another
 * process commits to the same database: a `berth` CLI command beside the server on SQLite (repo
 * delete, gc, retention), which announces nothing. MetaStore.externalChanges() moves when that
 * happens; asking it costs a query, so it is asked at most once per event-loop turn. The requests
 * answered from a cache in a turn had all arrived before the question, so a change another process
 * committed before a request arrived is never hidden from that request by the cache.
 */
import type { MetaStore } from '../meta/store.ts';

export class ExternalChangesWatch {
  /** externalChanges() when last read; undefined before the first read. */
  private seen: number | undefined;
  private askedThisTurn = false;

  /** `forget` runs when another process has committed since the previous check. */
  constructor(
    private readonly meta: Pick<MetaStore, 'externalChanges'>,
    private readonly forget: () => void,
  ) {}

  /** Call before answering from the cache: forgets it if another process committed since last asked. */
  check(): void {
    if (this.askedThisTurn || this.meta.externalChanges === undefined) return;
    this.askedThisTurn = true;
    setImmediate(() => (this.askedThisTurn = false));
    const now = this.meta.externalChanges();
    if (now !== this.seen) {
      if (this.seen !== undefined) this.forget();
      this.seen = now;
    }
  }
}
