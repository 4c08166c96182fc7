/**
 * Migration 18: replication runs (replication/model.ts). One row per execution of a rule (rules
 * live in the config, so `rule` is a name, not a key). `node` and `lease_until` lease a running run
 * to the node running it; a start finds a rule's running runs on the partial index (few rows,
 * whatever the history), `list` and `latest` walk (rule, id) backwards.
 *
 * counts and failures are JSON text: they are only ever written and read whole (no query looks
 * inside), and text keeps the rows of both databases equal, so `berth migrate` copies them as they
 * are (PostgreSQL's schema/replication.ts uses TEXT for the same reason).
 */
export const REPLICATION_SCHEMA = `
CREATE TABLE replication_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  rule TEXT NOT NULL,
  trigger_kind TEXT NOT NULL,
  status TEXT NOT NULL,
  counts TEXT NOT NULL,
  failures TEXT NOT NULL,
  scope TEXT,
  started_at BIGINT NOT NULL,
  finished_at BIGINT,
  node TEXT NOT NULL,
  lease_until BIGINT
);
CREATE INDEX replication_runs_rule ON replication_runs(rule, id);
CREATE INDEX replication_runs_running ON replication_runs(rule) WHERE status = 'running';
`;

/**
 * Migration 19: replication rules made through the API or the CLI (replication/model.ts StoredRule),
 * beside the config's. `spec` is the rule's JSON without its password; the password is sealed.
 */
export const REPLICATION_RULES_SCHEMA = `
CREATE TABLE replication_rules (
  name TEXT PRIMARY KEY,
  spec TEXT NOT NULL,
  sealed_password TEXT,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
`;
