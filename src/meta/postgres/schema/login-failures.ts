/**
 * Login failure counts shared by every node (auth/throttle.ts, meta/postgres/login-failures.ts):
 * one row per counted key (per user at an address, per address, per user everywhere), keyed by
 * the sha256 hex of the throttle's key, so that user names (any bytes, NUL included, any length)
 * never reach PostgreSQL. A row is a count and its last failure (ms, the nodes' clock); rows
 * whose last failure is past the window are dead and pruned (by last_at).
 */
export const LOGIN_FAILURES_SCHEMA = `
CREATE TABLE login_failures (
  key TEXT COLLATE "C" PRIMARY KEY,
  failures INTEGER NOT NULL,
  last_at BIGINT NOT NULL
);
CREATE INDEX login_failures_last_at ON login_failures (last_at);
`;
