/**
 * Administrators' settings (meta/settings.ts, postgres/settings.ts): one row per key, the value
 * as JSON text (TEXT, not JSONB, so that it reads back exactly as written, as on SQLite). Every
 * change, by any node or by hand, is announced with NOTIFY berth_settings (payload: the key), so
 * that each node drops its cached copy of the table.
 */
export const SETTINGS_SCHEMA = `
CREATE TABLE settings (
  key TEXT COLLATE "C" PRIMARY KEY,
  value TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE FUNCTION berth_settings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('berth_settings', CASE WHEN TG_OP = 'DELETE' THEN OLD.key ELSE NEW.key END);
  RETURN NULL;
END $$;
CREATE TRIGGER settings_changed AFTER INSERT OR UPDATE OR DELETE ON settings FOR EACH ROW EXECUTE FUNCTION berth_settings_changed();
`;
