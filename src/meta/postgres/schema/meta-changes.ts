/**
 * Announce removals in the meta store to every node (NOTIFY berth_meta, payload the repository's
 * name; '*' when it is gone already, as in a cascade from its row), so that the nodes forget the
 * manifests and blob links they cached of it (registry/repo-cache.ts, postgres/meta-changes.ts).
 * Additions need no notice: only what was found is cached, and tags are never cached on a cluster.
 * NOTIFY is sent at commit and folds duplicates within a transaction.
 */
const notify = (table: string): string => `
CREATE TRIGGER ${table}_changed AFTER DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION berth_meta_changed();`;

export const META_CHANGES_SCHEMA = `
CREATE FUNCTION berth_meta_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('berth_meta', COALESCE((SELECT name FROM repositories WHERE id = OLD.repository_id), '*'));
  RETURN NULL;
END $$;
${notify('manifests')}
${notify('repository_blobs')}
`;
