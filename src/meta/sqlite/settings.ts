/**
 * Administrators' settings on SQLite (table settings, migration 13). Nothing is cached: a read
 * is a prepared statement, and sees what another process (the CLI) wrote. Watchers hear the writes
 * made in this process, through any store on the same connection, after they commit.
 */
import type Database from 'better-sqlite3';
import { checkSettingKey, settingText, toSetting, type Json, type Setting, type SettingsStore } from '../settings.ts';

/** The watchers of each connection, shared by every store built on it. */
const WATCHERS = new WeakMap<Database.Database, Set<(key: string) => void>>();

function watchersOf(db: Database.Database): Set<(key: string) => void> {
  let set = WATCHERS.get(db);
  if (set === undefined) WATCHERS.set(db, (set = new Set()));
  return set;
}

interface Row {
  key: string;
  value: string;
  updated_by: string;
  updated_at: number;
}

export class SqliteSettingsStore implements SettingsStore {
  private readonly st;
  private readonly watchers: Set<(key: string) => void>;

  /** `db` is the meta store's connection (SqliteMetaStore.database), already migrated. */
  constructor(
    db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {
    this.watchers = watchersOf(db);
    this.st = {
      get: db.prepare<[string], Row>('SELECT key, value, updated_by, updated_at FROM settings WHERE key = ?'),
      put: db.prepare<[string, string, string, number]>(
        `INSERT INTO settings (key, value, updated_by, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
      ),
      delete: db.prepare<[string]>('DELETE FROM settings WHERE key = ?'),
      // substr, not LIKE: a prefix may hold % and _
      list: db.prepare<[string, string], Row>(
        'SELECT key, value, updated_by, updated_at FROM settings WHERE substr(key, 1, length(?)) = ? ORDER BY key',
      ),
    };
  }

  async get(key: string): Promise<Setting | undefined> {
    const row = this.st.get.get(key);
    return row === undefined ? undefined : toSetting(row);
  }

  async put(key: string, value: Json, by: string): Promise<Setting> {
    checkSettingKey(key);
    const text = settingText(value);
    const at = this.now();
    this.st.put.run(key, text, by, at);
    this.changed(key);
    return { key, value: JSON.parse(text) as Json, updatedBy: by, updatedAt: at };
  }

  async delete(key: string): Promise<boolean> {
    const gone = this.st.delete.run(key).changes > 0;
    if (gone) this.changed(key);
    return gone;
  }

  async list(prefix: string): Promise<Setting[]> {
    return this.st.list.all(prefix, prefix).map(toSetting);
  }

  async watch(listener: (key: string) => void): Promise<() => void> {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  private changed(key: string): void {
    for (const w of this.watchers) w(key);
  }
}
