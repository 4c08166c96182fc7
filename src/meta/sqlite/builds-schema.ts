/**
 * Migration 16: automated builds (builds/model.ts). `build_rules` are keyed by a random id and
 * name their repository (no foreign key: a rule may exist before the repository's first push);
 * `builds` is the queue and the history (claimed_by/claimed_until lease a running build to one
 * node); `build_logs` holds each build's log in chunks. Triggers keep
 * `repository_info.is_automated` (search: `[OK]` under AUTOMATED) true while a repository has a rule.
 */
import { NAMESPACE, OFFICIAL, SHORT_NAME, VISIBILITY } from './search-schema.ts';

export const BUILDS_SCHEMA = `
CREATE TABLE build_rules (
  id TEXT PRIMARY KEY,
  repository TEXT NOT NULL,
  git_url TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source TEXT NOT NULL,
  tag TEXT NOT NULL,
  dockerfile TEXT NOT NULL,
  context TEXT NOT NULL,
  build_args TEXT NOT NULL,
  poll INTEGER NOT NULL,
  credential_kind TEXT,
  credential TEXT,
  hook_secret TEXT NOT NULL,
  seen TEXT NOT NULL DEFAULT '{}',
  created_by TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX build_rules_repository ON build_rules(repository, created_at);
CREATE TABLE builds (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  repository TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  ref TEXT NOT NULL,
  commit_sha TEXT,
  tag TEXT NOT NULL,
  status TEXT NOT NULL,
  digest TEXT,
  trigger_kind TEXT NOT NULL,
  requested_by TEXT,
  error TEXT,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
  claimed_by TEXT,
  claimed_until BIGINT,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX builds_status ON builds(status, id);
CREATE INDEX builds_repository ON builds(repository, id);
CREATE TABLE build_logs (
  build_id BIGINT NOT NULL,
  seq INTEGER NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (build_id, seq)
);
CREATE TRIGGER build_rules_search_ai AFTER INSERT ON build_rules BEGIN
  INSERT INTO repository_info (name, namespace, short_name, is_official, is_automated, visibility, listed, updated_at)
    SELECT r.name, ${NAMESPACE}, ${SHORT_NAME}, ${OFFICIAL}, 1, ${VISIBILITY}, 0, new.created_at FROM (SELECT new.repository AS name) r
    WHERE true
    ON CONFLICT (name) DO UPDATE SET is_automated = 1;
END;
CREATE TRIGGER build_rules_search_ad AFTER DELETE ON build_rules BEGIN
  UPDATE repository_info SET is_automated = EXISTS (SELECT 1 FROM build_rules WHERE repository = old.repository)
    WHERE name = old.repository;
END;
`;

/** Migration 17: the newest build of a rule's reference, which each enqueue looks at (store.enqueue). */
export const BUILDS_RULE_REF_INDEX = 'CREATE INDEX builds_rule_ref ON builds(rule_id, ref, id);';
