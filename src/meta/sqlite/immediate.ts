/**
 * Every transaction on the meta store's connection begins IMMEDIATE: it takes the write lock at
 * BEGIN, waiting up to busy_timeout for it. In WAL mode a deferred transaction that reads and then
 * writes fails at once with SQLITE_BUSY when another connection committed in between (its snapshot
 * is stale, so busy_timeout does not help): with `berth gc`, `berth repo delete` or an import
 * writing beside a serving berth, a push would answer 500 and a collection fail (the GC race test,
 * test/gc/concurrency.test.ts, hit it). Transactions that only read ask for `.deferred()`.
 * Nested transactions stay savepoints, as better-sqlite3 makes them.
 */
import type Database from 'better-sqlite3';

export function beginImmediate(db: Database.Database): void {
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: (...args: never[]) => unknown) => {
    const t = transaction(fn);
    // the library's transaction functions are frozen: a new one calls .immediate
    return Object.assign((...args: never[]) => t.immediate(...args), { default: t.immediate, deferred: t.deferred, immediate: t.immediate, exclusive: t.exclusive });
  }) as typeof db.transaction;
}
