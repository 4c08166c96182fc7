/**
 * A backend: every store berth keeps its state in, opened together on one database. One factory
 * per database builds it from the config (sqlite/backend.ts now, PostgreSQL later), so the
 * composition root, the CLI and the tests never build a store from a raw connection. Each store
 * has its own interface and conformance suite; the backend only puts them side by side.
 */
import type { AccountStore } from '../auth/store.ts';
import type { EventQueue } from '../events/queue.ts';
import type { SearchIndex } from '../search/model.ts';
import type { StorageUsageStore } from './storage-usage.ts';
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
  /** Close the database under every store (after the last use of any of them). */
  close(): Promise<void>;
}
