/**
 * What several nodes share beyond the stores' own tables: the token signing keys (so a token
 * issued by one node verifies on every other), and leases for background jobs that must run once
 * across the cluster.
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
`;
