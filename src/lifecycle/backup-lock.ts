/**
 * Whether a berth is serving a SQLite database: a serving berth keeps it open in WAL mode, and a
 * connection in WAL mode holds a shared lock on the database file from its first read until it
 * closes. Taking the exclusive lock (locking_mode EXCLUSIVE, then BEGIN EXCLUSIVE, without
 * waiting) fails while any other process holds the file open that way, and succeeds once none
 * does; the lock is released at once. It sees a berth on this machine (POSIX locks are not
 * reliable over network file systems: keep the database on a local disk).
 */
import Database from 'better-sqlite3';

/** True while another process holds the database open (a serving berth, `berth events`, sqlite3). */
export function databaseInUse(file: string): boolean {
  const db = new Database(file, { fileMustExist: true, timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
    return false;
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_BUSY') return true;
    throw err;
  } finally {
    db.close();
  }
}
