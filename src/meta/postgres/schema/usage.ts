/** Storage samples on PostgreSQL (SQLite's migration 6): bytes per namespace over time, '' for the total. */
export const USAGE_SCHEMA = `
CREATE TABLE storage_samples (
  at BIGINT NOT NULL,
  namespace TEXT COLLATE "C" NOT NULL,
  bytes BIGINT NOT NULL,
  PRIMARY KEY (at, namespace)
);
`;
