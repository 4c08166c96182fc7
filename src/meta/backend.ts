/**
 * A backend: every store berth keeps its state in, opened together on one database. One factory
 * per database builds it from the config (sqlite/backend.ts, postgres/backend.ts; open-backend.ts picks), so the
 * composition root, the CLI and the tests never build a store from a raw connection. Each store
 * has its own interface and conformance suite; the backend only puts them side by side.
 */
import type { FailureCounts } from '../auth/failure-store.ts';
import type { SigningKeySource } from '../auth/keys.ts';
import type { AccountStore } from '../auth/store.ts';
import type { BuildStore } from '../builds/model.ts';
import type { SealingKeySource } from '../secrets/secret-box.ts';
import type { ReplicationRuleStore, ReplicationStore } from '../replication/model.ts';
import type { EventQueue } from '../events/queue.ts';
import type { MetaChanges } from './changes.ts';
import type { BlobInventory } from './inventory.ts';
import type { GcStore } from './gc.ts';
import type { JobLeases } from './leases.ts';
import type { UploadStateStore } from './upload-state.ts';
import type { SearchIndex } from '../search/model.ts';
import type { SettingsStore } from './settings.ts';
import type { StorageUsageStore } from './storage-usage.ts';
import type { TagActivityStore } from './tag-activity.ts';
import type { MetaStore } from './store.ts';

export interface Backend {
  /** Blobs, manifests, tags, uploads: the registry's metadata. */
  meta: MetaStore;
  /** Users, organisations, teams, repository visibility, tokens. */
  accounts: AccountStore;
  /** Search, stars, descriptions and pull counts. */
  search: SearchIndex;
  /** Storage per namespace, now and sampled over time. */
  usage: StorageUsageStore;
  /** The durable queue of notification deliveries. */
  events: EventQueue;
  /** Leases that make a background job run on one node at a time. */
  leases: JobLeases;
  /** Blob records, their uses and the journal, read in pages to hold them against storage (fsck, backup). */
  inventory: BlobInventory;
  /** Garbage collection's review queues, marks and past runs (registry/gc.ts). */
  gc: GcStore;
  /** Administrators' edits that override the config's defaults (immutable tags, quotas). */
  settings: SettingsStore;
  /** Each tag's last pull, and what retention reads of tags and untagged manifests (src/retention). */
  tagActivity: TagActivityStore;
  /** Automated builds: rules, the build queue and history, logs (src/builds). */
  builds: BuildStore;
  /** Replication: each run of a rule, its progress, and which node runs it (src/replication). */
  replication: ReplicationStore;
  /** Replication rules made through the API or the CLI, beside the config's (src/replication). */
  replicationRules: ReplicationRuleStore;
  /**
   * Where chunked uploads keep their hash state between requests when several nodes serve them
   * (PostgreSQL); undefined for SQLite: one process keeps it in memory, and hashes faster.
   */
  uploadState?: UploadStateStore;
  /** Other processes' changes to the meta store, when several share it (PostgreSQL). */
  changes?: MetaChanges;
  /**
   * Where the token signing keys are kept when the database keeps them (PostgreSQL, shared by
   * every node); undefined for SQLite, whose keys are files beside the database (auth/setup.ts).
   */
  keys?: SigningKeySource;
  /** The key sealing build rules' secrets when the database keeps it (PostgreSQL); undefined for SQLite: a file beside the signing keys. */
  sealingKey?: SealingKeySource;
  /**
   * Login failure counts shared by every node (PostgreSQL), so that locks hold cluster-wide;
   * undefined for SQLite: one process counts in memory (auth/throttle.ts).
   */
  loginFailures?: FailureCounts;
  /** Close the database under every store (after the last use of any of them). */
  close(): Promise<void>;
}
