/**
 * kill -9 during garbage collection on SQLite (the meta store's file under the root, as by
 * default): the suite is test/helpers/gc-crash.ts; crash-postgres.test.ts is its PostgreSQL twin.
 */
import { gcCrashSuite, sqliteReader } from '../helpers/gc-crash.ts';

gcCrashSuite('kill -9 during garbage collection (SQLite)', async () => ({ reader: sqliteReader }));
