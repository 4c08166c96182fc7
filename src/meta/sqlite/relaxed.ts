/**
 * Commit without waiting for the disk: run `fn` with synchronous=NORMAL (committed to the WAL, not
 * yet flushed), then back to FULL. For writes whose loss in a power cut costs nothing acknowledged
 * (upload bookkeeping, delivery state, journal cleanup); every store on the database shares it.
 */
import type Database from 'better-sqlite3';

export function relaxed<T>(db: Database.Database, fn: () => T): T {
  db.pragma('synchronous = NORMAL');
  try {
    return fn();
  } finally {
    db.pragma('synchronous = FULL');
  }
}
