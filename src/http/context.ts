/** The per-request context handed to every handler, and the handler signature. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from '../registry/registry.ts';
import type { EventSink } from '../events/sink.ts';
import type { RouteName } from './routes.ts';
import type { RequestObserver } from './request-done.ts';

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
}

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  route: RouteName | 'unknown';
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
  /** Operations endpoints (/healthz, /readyz, /metrics): answers and returns true, or returns false. */
  ops?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Notification events, queued before the response; none when absent. */
  events?: EventSink;
}

export type Handler = (ctx: RequestContext, app: App) => Promise<void>;
