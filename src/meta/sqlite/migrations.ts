/**
 * Versioned schema migrations. Each entry runs once, in order, in a transaction; the applied
 * version is kept in schema_migrations. The SQL is kept portable (it must also run on PostgreSQL).
 */
import { BUILDS_RULE_REF_INDEX, BUILDS_SCHEMA } from './builds-schema.ts';
import { GC_SCHEMA } from './gc-schema.ts';
import { REPLICATION_RULES_SCHEMA, REPLICATION_SCHEMA } from './replication-schema.ts';
import { TAG_ACTIVITY_SCHEMA } from './tag-activity-schema.ts';
import { SEARCH_SCHEMA } from './search-schema.ts';
import { USAGE_COUNTERS_SCHEMA } from './usage-schema.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'core registry',
    sql: `
CREATE TABLE repositories (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE blobs (
  digest TEXT PRIMARY KEY,
  size BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE repository_blobs (
  repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  digest TEXT NOT NULL REFERENCES blobs(digest),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (repository_id, digest)
);
CREATE INDEX repository_blobs_digest ON repository_blobs(digest);
CREATE TABLE manifests (
  repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  digest TEXT NOT NULL REFERENCES blobs(digest),
  media_type TEXT NOT NULL,
  artifact_type TEXT,
  size BIGINT NOT NULL,
  subject_digest TEXT,
  annotations TEXT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (repository_id, digest)
);
CREATE INDEX manifests_subject ON manifests(repository_id, subject_digest);
CREATE TABLE manifest_references (
  repository_id INTEGER NOT NULL,
  manifest_digest TEXT NOT NULL,
  child_digest TEXT NOT NULL,
  kind TEXT NOT NULL,
  PRIMARY KEY (repository_id, manifest_digest, child_digest),
  FOREIGN KEY (repository_id, manifest_digest) REFERENCES manifests(repository_id, digest) ON DELETE CASCADE
);
CREATE INDEX manifest_references_child ON manifest_references(child_digest);
CREATE TABLE uploads (
  id TEXT PRIMARY KEY,
  repository TEXT NOT NULL,
  started_at BIGINT NOT NULL
);
CREATE INDEX uploads_started ON uploads(started_at);
CREATE TABLE tags (
  repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  manifest_digest TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (repository_id, name),
  FOREIGN KEY (repository_id, manifest_digest) REFERENCES manifests(repository_id, digest) ON DELETE CASCADE
);
`,
  },
  {
    version: 2,
    name: 'blob journal',
    sql: `
CREATE TABLE blob_journal (
  digest TEXT PRIMARY KEY,
  data BLOB NOT NULL,
  created_at BIGINT NOT NULL
);
`,
  },
  {
    version: 3,
    name: 'event deliveries',
    sql: `
CREATE TABLE event_deliveries (
  id INTEGER PRIMARY KEY,
  endpoint TEXT NOT NULL,
  event_id TEXT NOT NULL,
  action TEXT NOT NULL,
  repository TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  delivered_at BIGINT
);
CREATE INDEX event_deliveries_queue ON event_deliveries(endpoint, id) WHERE delivered_at IS NULL;
CREATE INDEX event_deliveries_delivered ON event_deliveries(delivered_at) WHERE delivered_at IS NOT NULL;
`,
  },
  {
    version: 4,
    name: 'accounts and access control',
    sql: `
CREATE TABLE namespaces (
  name TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE users (
  name TEXT PRIMARY KEY REFERENCES namespaces(name) ON DELETE CASCADE,
  password_hash TEXT,
  admin INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);
CREATE TABLE org_members (
  org TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,
  user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  owner INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (org, user_name)
);
CREATE INDEX org_members_user ON org_members(user_name);
CREATE TABLE teams (
  id INTEGER PRIMARY KEY,
  org TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (org, name)
);
CREATE TABLE team_members (
  team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
  user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  PRIMARY KEY (team_id, user_name)
);
CREATE TABLE team_permissions (
  team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
  repository TEXT NOT NULL,
  role TEXT NOT NULL,
  PRIMARY KEY (team_id, repository)
);
CREATE TABLE repository_settings (
  name TEXT PRIMARY KEY,
  namespace TEXT NOT NULL,
  visibility TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX repository_settings_namespace ON repository_settings(namespace, visibility);
CREATE TABLE access_tokens (
  id TEXT PRIMARY KEY,
  user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  scopes TEXT,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  last_used_at BIGINT
);
CREATE INDEX access_tokens_user ON access_tokens(user_name, kind);
`,
  },
  { version: 5, name: 'search index, stars and descriptions', sql: SEARCH_SCHEMA },
  {
    version: 6,
    name: 'storage samples',
    // Bytes per namespace over time (observability/storage-sampler.ts); namespace '' holds the total.
    sql: `
CREATE TABLE storage_samples (
  at BIGINT NOT NULL,
  namespace TEXT NOT NULL,
  bytes BIGINT NOT NULL,
  PRIMARY KEY (at, namespace)
);
`,
  },
  {
    version: 7,
    name: 'listing repositories without text',
    // The web UI's listings: "Recently pushed" (sort=updated) walks the first index instead of sorting
    // every listed repository, and a listing's total counts visible repositories from the second
    // (it covers the visibility condition) instead of reading every row.
    sql: `
CREATE INDEX repository_info_updated ON repository_info(listed, updated_at DESC, name);
CREATE INDEX repository_info_access ON repository_info(listed, visibility, namespace, name, is_official);
`,
  },
  {
    version: 8,
    name: 'catalog pages by visibility',
    // The catalog of a caller who is not an administrator (visibility-sql.ts): public repositories
    // and those without settings are each walked in name order from `last` on an index that holds
    // nothing else, so a page reads about n rows, however many hidden names lie between.
    sql: `
CREATE INDEX repository_info_public ON repository_info(name) WHERE listed = 1 AND visibility = 'public';
CREATE INDEX repository_info_unset ON repository_info(name) WHERE listed = 1 AND visibility IS NULL;
`,
  },
  {
    version: 9,
    name: 'repository times',
    // What every view shows of a repository: created_at is its first manifest's push (0 until then,
    // set by putManifest; before, the first blob's upload, which lets an unfinished push pose as the
    // repository's creation), updated_at its last push, tag move or delete (deleting a tag now counts
    // too). Backfilled from the earliest manifest each repository still holds (updated_at was
    // already set by every push, and repository_info copies it through its trigger, search-schema.ts).
    sql: `
UPDATE repositories SET created_at = COALESCE((SELECT MIN(m.created_at) FROM manifests m WHERE m.repository_id = repositories.id), 0);
UPDATE repositories SET updated_at = created_at WHERE updated_at < created_at;
`,
  },
  {
    version: 10,
    name: 'event delivery leases',
    // A claimed delivery is leased to the queue that claimed it (event-queue.ts) until it is marked
    // delivered or failed, or claimed_until passes; with one process per SQLite file that queue is
    // always the same, and the columns keep the behaviour of the PostgreSQL queue, whose nodes share.
    sql: `
ALTER TABLE event_deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE event_deliveries ADD COLUMN claimed_until BIGINT;
`,
  },
  {
    version: 11,
    name: 'job leases',
    // Background jobs that run once per period across a cluster take a lease by name (leases.ts).
    sql: `
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
`,
  },
  {
    version: 12,
    name: 'garbage collection queues',
    // Review queues filled by triggers, marks of blobs being deleted, intents of blob writes, past runs
    // (gc-schema.ts; docs/gc.md). Every blob and manifest already here is queued once, so the first
    // collection after the upgrade looks at all of them and later ones only at what changed.
    sql: GC_SCHEMA,
  },
  {
    version: 13,
    name: 'settings overriding the config',
    // Edits made through the management API that override the config's defaults (meta/settings.ts).
    sql: `
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
`,
  },
  {
    version: 14,
    name: 'last pull of each tag, and when manifests lost their last tag',
    // For retention (meta/tag-activity.ts; tag-activity-schema.ts): tags.pulled_at, NULL until the first
    // pull after the upgrade (such a tag counts from its push); manifest_untagged, filled by triggers from
    // now on (a manifest untagged before counts from its push).
    sql: TAG_ACTIVITY_SCHEMA,
  },
  {
    version: 15,
    name: 'namespace usage counters',
    // What each namespace's repositories link, counted by triggers (usage-schema.ts), so that a quota's
    // check reads a few rows instead of summing the namespace's links; the links already here are counted.
    sql: USAGE_COUNTERS_SCHEMA,
  },
  {
    version: 16,
    name: 'automated builds',
    // Build rules, the build queue and history, build logs; repositories with a rule are automated (builds-schema.ts).
    sql: BUILDS_SCHEMA,
  },
  {
    version: 17,
    name: 'builds by rule and reference',
    sql: BUILDS_RULE_REF_INDEX,
  },
  {
    version: 18,
    name: 'replication runs',
    // Each run of a replication rule, its counts and failures, leased to the node running it (replication-schema.ts).
    sql: REPLICATION_SCHEMA,
  },
  {
    version: 19,
    name: 'replication rules',
    // Rules made through the API or the CLI, their passwords sealed (replication-schema.ts).
    sql: REPLICATION_RULES_SCHEMA,
  },
];
