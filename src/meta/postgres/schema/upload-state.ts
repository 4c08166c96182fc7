/**
 * The state of chunked uploads shared by every node (so each PATCH may reach another node): the
 * size acknowledged so far and the sha256 state after it, saved with each chunk, so that the node
 * finishing an upload computes its digest without re-reading the bytes; and which request holds
 * the session (holder, until held_until in ms on the database's clock), so that two nodes never
 * append to it at once. A hold whose node died lapses at held_until.
 */
export const UPLOAD_STATE_SCHEMA = `
CREATE TABLE upload_state (
  id TEXT PRIMARY KEY REFERENCES uploads(id) ON DELETE CASCADE,
  size BIGINT NOT NULL,
  hash_state BYTEA,
  holder TEXT,
  held_until BIGINT,
  updated_at BIGINT NOT NULL
);
`;
