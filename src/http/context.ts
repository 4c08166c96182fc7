/** The per-request context handed to every handler, and the handler signature. */
import type { ServedBuildService } from '../builds/setup.ts';
import type { Replication } from '../replication/service.ts';
import type { GcConfig } from '../config/gc-schema.ts';
import type { GcStore } from '../meta/gc.ts';
import type { GarbageCollector } from '../registry/gc.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RetentionService } from '../retention/service.ts';
import type { Logger } from 'pino';
import type { Registry } from '../registry/registry.ts';
import type { ImmutableTags } from '../registry/immutable.ts';
import type { Quotas } from '../registry/quota.ts';
import type { ServedAs } from './routes.ts';
import type { RequestObserver } from './request-done.ts';
import type { AccessControl } from '../auth/access-control.ts';
import type { Principal } from '../auth/principal.ts';
import type { VerifiedToken } from '../auth/jwt.ts';
import type { Discovery } from '../search/discovery.ts';
import type { StorageUsageStore } from '../meta/storage-usage.ts';
import type { UiFiles } from './ui-static.ts';
import type { TrustedProxies } from './client-address.ts';

export interface HttpOptions {
  /** Absolute base URL for Location headers (http.host); derived from the request when unset. */
  host?: string;
  /** Path prefix the registry is served under (http.prefix), '' or '/path'. */
  prefix: string;
  /** Emit relative Location headers (http.relativeurls). */
  relativeUrls: boolean;
  /** Extra response headers (http.headers). */
  headers: Record<string, string[]>;
  /** Never redirect blob GETs to the storage backend (storage.redirect.disable). */
  redirectDisabled: boolean;
  /** The most repositories one catalog page returns (catalog.maxentries). */
  catalogMaxEntries: number;
  /** Proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (http.trustedproxies); none when absent. */
  trustedProxies?: TrustedProxies;
}

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  route: ServedAs;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The repository name, validated; '' for routes without one. */
  name: string;
  id: string;
  log: Logger;
  /** An absolute (or, with relativeurls, relative) URL for a path of this registry. */
  url(path: string): string;
  /** The path as the client must request it (with http.prefix). */
  path(path: string): string;
  /** Who is asking (set by http/authorize.ts before the handler runs); anonymous by default. */
  principal: Principal;
  /** The bearer token the request carried, verified. */
  token?: VerifiedToken;
  /** Access control is off (no users, no auth section): every request may do everything. */
  unrestricted: boolean;
}

export interface App {
  registry: Registry;
  options: HttpOptions;
  log: Logger;
  /** Called when each response is done (access log, metrics). */
  observers?: readonly RequestObserver[];
  /** Told when a request starts and stops receiving upload bytes (for the uploads-in-progress gauge). */
  uploadGauge?: { inc(): void; dec(): void };
  /** Pending and failed notification deliveries (GET /api/v1/events). */
  eventsStatus?: (failedOnly: boolean) => Promise<unknown>;
  /** Per-upstream counters of the pull-through cache (GET /api/v1/mirror); absent when not mirroring. */
  mirrorStatus?: () => unknown;
  /** Operations endpoints (/healthz, /readyz, /metrics): answers and returns true, or returns false. */
  ops?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Accounts and access control; absent, every request may do everything. */
  access?: AccessControl;
  /** The web UI's files, served at `/`; absent when ui.enabled is false or the UI is not built. */
  ui?: UiFiles;
  /** Search, stars, descriptions and pull counts (/v1/search, /api/v1/search); absent, those routes answer 404. */
  search?: Discovery;
  /** Storage by namespace and its samples (GET /api/v1/admin/storage); absent, that route answers 404. */
  storageUsage?: StorageUsageStore;
  /** Immutable tag rules (/api/v1/admin/immutable); absent, that route answers 404. */
  immutable?: ImmutableTags;
  /** Namespace quotas (/api/v1/namespaces/{ns}/quota); absent, those routes answer 404. */
  quotas?: Quotas;
  /** Retention policies and their dry run (/api/v1/retention/*); absent, those routes answer 404. */
  retention?: RetentionService;
  /** Automated builds (/api/v1/repositories/{name}/_builds, .../builds/*); absent (builds.enabled off), those routes answer 404. */
  builds?: ServedBuildService;
  /** Replication rules and their runs (/api/v1/replication); absent in tests that make no replication. */
  replication?: Replication;
  /** Garbage collection (GET/POST /api/v1/admin/gc); absent, those routes answer 404. */
  gc?: { collector: GarbageCollector; store: GcStore; config: GcConfig };
}

export type Handler = (ctx: RequestContext, app: App) => Promise<void>;
