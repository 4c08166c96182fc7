/**
 * Administrators' settings: edits made through the management API that override the config
 * file's values (the config holds the defaults; a setting present here wins, a setting deleted
 * falls back to the config). Keys are short dotted or slashed paths chosen by each feature
 * (`immutable/rules/<id>`, `quota/namespaces/<ns>`), values any JSON, each stamped with who set it
 * and when. Implementations: sqlite/settings.ts, postgres/settings.ts (shared by every node of a
 * cluster: a change on one is seen by the others); one suite, settings-conformance.ts.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Setting {
  key: string;
  value: Json;
  /** Who set it (the administrator's user name, or `cli`). */
  updatedBy: string;
  /** When (ms since epoch). */
  updatedAt: number;
}

export interface SettingsStore {
  get(key: string): Promise<Setting | undefined>;
  /** Set a key (creating or replacing it); returns what was stored. */
  put(key: string, value: Json, by: string): Promise<Setting>;
  /** Remove a key; whether it was there. */
  delete(key: string): Promise<boolean>;
  /** Every setting whose key starts with `prefix` ('' for all), in key order. */
  list(prefix: string): Promise<Setting[]>;
  /**
   * Call `listener` after a setting changes, here or (PostgreSQL) on another node, with its key,
   * or '*' when anything may have changed (a lost connection). Returns the unsubscribe function.
   */
  watch(listener: (key: string) => void): Promise<() => void>;
}

/** The longest key a store accepts. */
export const MAX_SETTING_KEY = 200;
/** The largest value a store accepts, as JSON text. */
export const MAX_SETTING_BYTES = 64 * 1024;

/** Throws unless `key` is a key the stores accept: 1-200 printable ASCII characters, no spaces. */
export function checkSettingKey(key: string): void {
  if (key.length === 0 || key.length > MAX_SETTING_KEY || !/^[\x21-\x7e]+$/.test(key)) {
    throw new RangeError(`a setting's key is 1-${MAX_SETTING_KEY} printable ASCII characters without spaces: ${JSON.stringify(key.slice(0, 50))}`);
  }
}

/** The JSON text stored for a value; throws when it is too large or not JSON (undefined, NaN, a function). */
export function settingText(value: Json): string {
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined || (typeof value === 'number' && !Number.isFinite(value))) throw new TypeError('a setting holds JSON');
  if (Buffer.byteLength(text) > MAX_SETTING_BYTES) throw new RangeError(`a setting holds at most ${MAX_SETTING_BYTES} bytes of JSON`);
  return text;
}

/** A stored row as a Setting. */
export function toSetting(row: { key: string; value: string; updated_by: string; updated_at: number | string }): Setting {
  return { key: row.key, value: JSON.parse(row.value) as Json, updatedBy: row.updated_by, updatedAt: Number(row.updated_at) };
}
