/**
 * UploadStateStore: what the nodes of a cluster share about chunked uploads in progress, so that
 * each request of a session may reach another node. A request first holds the session (one
 * holder at a time across the cluster, for a lease it renews while it writes), then, once its
 * bytes are durable and before it answers, saves the upload's size and sha256 state
 * (hash-wasm's save()) with a compare-and-set on the size it started from. The node finishing
 * the upload loads that state instead of re-reading the bytes from storage.
 *
 * PostgreSQL: PgUploadStateStore (src/meta/postgres/upload-state.ts). A single node (SQLite)
 * needs none: its UploadService keeps the hash in memory.
 */

/** The upload as of its last acknowledged request. */
export interface SavedUploadState {
  /** Bytes acknowledged. */
  size: number;
  /** The sha256 state after exactly `size` bytes, or undefined when no node hashed all of them. */
  hashState: Uint8Array | undefined;
}

export type UploadClaim =
  /** Held by the caller until it saves or releases (or its lease lapses). */
  | { kind: 'held'; saved: SavedUploadState }
  /** Another request holds the session; `size` is what was acknowledged before it. */
  | { kind: 'busy'; size: number }
  /** No such upload session (finished or cancelled meanwhile). */
  | { kind: 'unknown' };

export interface UploadStateStore {
  /**
   * Hold the session for `holder` for leaseMs, unless another holder's lease is running. The
   * first claim of a session records it with size 0 and no hash state.
   */
  claim(id: string, holder: string, leaseMs: number): Promise<UploadClaim>;
  /** Extend the hold by leaseMs from now; false when `holder` no longer holds it (lapsed and taken, or deleted). */
  renew(id: string, holder: string, leaseMs: number): Promise<boolean>;
  /**
   * Record the upload's new size and hash state, only if `holder` still holds the session and
   * its recorded size is still `from`; with `release`, give up the hold in the same write.
   * false when either condition failed (nothing is written then).
   */
  save(id: string, holder: string, from: number, state: SavedUploadState, release: boolean): Promise<boolean>;
  /** Give up the hold, keeping the state saved before (a request that failed). No-op if not held by holder. */
  release(id: string, holder: string): Promise<void>;
  /** The saved state, or undefined when the session has none. */
  get(id: string): Promise<SavedUploadState | undefined>;
  /** Forget the session's state (finished, cancelled or purged). */
  delete(id: string): Promise<void>;
}
