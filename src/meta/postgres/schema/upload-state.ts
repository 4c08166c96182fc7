/**
 * The state of chunked uploads shared by every node (so each PATCH may reach another node): the
 * size received so far and the sha256 state after it, saved with each chunk, so that the node
 * finishing an upload computes its digest without re-reading the bytes.
 */
export const UPLOAD_STATE_SCHEMA = `
CREATE TABLE upload_state (
  id TEXT PRIMARY KEY REFERENCES uploads(id) ON DELETE CASCADE,
  size BIGINT NOT NULL,
  hash_state BYTEA,
  updated_at BIGINT NOT NULL
);
`;
