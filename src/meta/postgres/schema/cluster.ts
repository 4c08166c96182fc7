/**
 * What several nodes share beyond the stores' own tables: the token signing keys (so a token
 * issued by one node verifies on every other), leases for background jobs that must run once
 * across the cluster, and the state of chunked uploads (so each PATCH may reach another node).
 */
export const CLUSTER_SCHEMA = `
CREATE TABLE signing_keys (
  id TEXT PRIMARY KEY,
  private_jwk TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE TABLE upload_state (
  id TEXT PRIMARY KEY REFERENCES uploads(id) ON DELETE CASCADE,
  size BIGINT NOT NULL,
  hash_state BYTEA,
  parts TEXT,
  updated_at BIGINT NOT NULL
);
`;
