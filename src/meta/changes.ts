/**
 * Changes to the meta store made by other processes sharing its database (the other nodes of a
 * cluster on PostgreSQL), per repository, so that each node's caches forget what they changed.
 * SQLite has none: one process writes it, and its own writes invalidate its caches directly.
 */
export interface MetaChanges {
  /**
   * Call `listener` with the name of each repository whose manifests, tags or blob links another
   * node changed, or with '*' when changes may have been missed (a dropped connection): forget all.
   */
  subscribe(listener: (repository: string) => void): Promise<() => void>;
}
