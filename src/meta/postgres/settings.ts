/**
 * Administrators' settings on PostgreSQL (table settings, schema/settings.ts), shared by every
 * node. The table is small and read on every push (immutable tags, quotas), so each node keeps
 * a copy of all of it, loaded on first use and dropped whenever a NOTIFY berth_settings says a
 * row changed (the table's trigger sends it at commit, whoever writes), or the listening
 * connection was lost ('*'). The node listens before it reads, so no change committed after the
 * read goes unheard; a read that started before a change it then hears is used for its own
 * caller but not kept (the generation check). A node's own writes drop its copy at once.
 */
import { checkSettingKey, settingText, toSetting, type Json, type Setting, type SettingsStore } from '../settings.ts';
import type { PgDatabase } from './database.ts';

const CHANNEL = 'berth_settings';

interface Row {
  key: string;
  value: string;
  updated_by: string;
  updated_at: string | number;
}

export class PgSettingsStore implements SettingsStore {
  private cached: Map<string, Setting> | undefined;
  /** Bumped by every change heard or made: a load that began before it is not kept. */
  private generation = 0;
  private listening: Promise<void> | undefined;
  private readonly watchers = new Set<(key: string) => void>();

  constructor(
    private readonly db: PgDatabase,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string): Promise<Setting | undefined> {
    const found = (await this.all()).get(key);
    return found === undefined ? undefined : structuredClone(found);
  }

  async put(key: string, value: Json, by: string): Promise<Setting> {
    checkSettingKey(key);
    const row = await this.db.one<Row>(
      `INSERT INTO settings (key, value, updated_by, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at
       RETURNING key, value, updated_by, updated_at`,
      [key, settingText(value), by, this.now()],
    );
    this.forget();
    return toSetting(row as Row);
  }

  async delete(key: string): Promise<boolean> {
    const gone = (await this.db.query('DELETE FROM settings WHERE key = $1', [key])).rowCount;
    this.forget();
    return (gone ?? 0) > 0;
  }

  async list(prefix: string): Promise<Setting[]> {
    const all = [...(await this.all()).values()].filter((s) => s.key.startsWith(prefix));
    return structuredClone(all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)));
  }

  async watch(listener: (key: string) => void): Promise<() => void> {
    await this.listen();
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  private async all(): Promise<Map<string, Setting>> {
    if (this.cached !== undefined) return this.cached;
    await this.listen();
    const generation = this.generation;
    const rows = await this.db.rows<Row>('SELECT key, value, updated_by, updated_at FROM settings');
    const loaded = new Map(rows.map((r) => [r.key, toSetting(r)]));
    if (generation === this.generation) this.cached = loaded;
    return loaded;
  }

  private listen(): Promise<void> {
    this.listening ??= this.db.listen(CHANNEL, (key) => {
      this.forget();
      for (const w of this.watchers) w(key);
    }).then(
      () => undefined,
      (err: unknown) => {
        this.listening = undefined;
        throw err;
      },
    );
    return this.listening;
  }

  private forget(): void {
    this.generation++;
    this.cached = undefined;
  }
}
