/**
 * The HTTP front: a plain node:http server (the hot path wants no framework in the way) that
 * matches the route table, builds the request context (validated repository name, request id,
 * URL builder), runs the handler, maps any error through http/errors.ts, and logs the request.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { App, Handler, RequestContext } from './context.ts';
import { apiOf, HttpError, mapError, sendError } from './errors.ts';
import { HANDLERS } from './handlers/index.ts';
import { matchRoute, type Method, type ServedAs } from './routes.ts';
import { observeRequest } from './request-done.ts';
import { validateName } from '../registry/reference.ts';
import { authorize } from './authorize.ts';
import { ANONYMOUS, type Principal } from '../auth/principal.ts';
import type { VerifiedToken } from '../auth/jwt.ts';
import type { Logger } from 'pino';

const API_VERSION_HEADER = 'Docker-Distribution-API-Version';
let requestCounter = 0;
const idPrefix = `${process.pid.toString(36)}${Date.now().toString(36)}`;

function baseUrl(req: IncomingMessage, app: App): string {
  if (app.options.relativeUrls) return app.options.prefix;
  if (app.options.host) return app.options.host.replace(/\/$/, '') + app.options.prefix;
  const forwarded = req.headers['x-forwarded-proto'];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded?.split(',')[0])?.trim() || 'http';
  const host = req.headers['x-forwarded-host'] ?? req.headers.host ?? 'localhost';
  return `${proto}://${Array.isArray(host) ? host[0] : host}${app.options.prefix}`;
}

async function dispatch(req: IncomingMessage, app: App, ctx: RequestContext): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const full = q === -1 ? url : url.slice(0, q);
  const { prefix } = app.options;
  if (prefix !== '' && !full.startsWith(`${prefix}/`)) throw new HttpError('NOT_FOUND', `no route for ${full}`);
  const path = full.slice(prefix.length);
  const match = matchRoute(path);
  if (match === undefined) {
    if (app.ui?.serve(req, ctx.res, path) === true) {
      ctx.route = 'ui';
      return;
    }
    throw new HttpError('NOT_FOUND', `no route for ${path}`);
  }
  const handler: Handler | undefined = HANDLERS[match.route.name][req.method as Method];
  if (handler === undefined) {
    throw new HttpError('METHOD_UNKNOWN', `${req.method} is not allowed on ${match.route.name}`, undefined, {
      Allow: match.route.methods.join(', '),
    });
  }
  ctx.route = match.route.name;
  ctx.params = match.params;
  const name = match.params['name'];
  if (name !== undefined) ctx.name = validateName(name);
  await authorize(ctx, app, req.method as Method);
  await handler(ctx, app);
}

/**
 * The context of one request. A class, not a literal with closures: a manifest GET allocates
 * one object here, and parses its query string only if a handler asks for it.
 */
class Context implements RequestContext {
  route: ServedAs = 'unknown';
  params: Record<string, string> = {};
  name = '';
  principal: Principal = ANONYMOUS;
  token?: VerifiedToken;
  unrestricted = false;
  readonly log: Logger;
  private base: string | undefined;
  private parsedQuery: URLSearchParams | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly id: string,
    private readonly app: App,
  ) {
    this.log = app.log;
  }

  get query(): URLSearchParams {
    if (this.parsedQuery === undefined) {
      const url = this.req.url ?? '';
      const q = url.indexOf('?');
      this.parsedQuery = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
    }
    return this.parsedQuery;
  }

  url(p: string): string {
    return (this.base ??= baseUrl(this.req, this.app)) + p;
  }

  path(p: string): string {
    return this.app.options.prefix + p;
  }
}

export function createRequestListener(app: App): (req: IncomingMessage, res: ServerResponse) => void {
  const extraHeaders = Object.entries(app.options.headers);
  const observers = app.observers ?? [];
  return (req, res) => {
    // Probes and scrapes first: not registry requests, not access-logged.
    if (app.ops?.(req, res)) return;
    const header = req.headers['x-request-id'];
    const id = typeof header === 'string' && header.length <= 128 ? header : `${idPrefix}-${(++requestCounter).toString(36)}`;
    res.setHeader(API_VERSION_HEADER, 'registry/2.0');
    res.setHeader('X-Request-Id', id);
    for (const [k, v] of extraHeaders) res.setHeader(k, v);
    const ctx = new Context(req, res, id, app);
    observeRequest(req, res, observers, () => ({ id, route: ctx.route, repo: ctx.name || undefined }));
    dispatch(req, app, ctx).catch((err: unknown) => {
      const mapped = mapError(err, apiOf(req.url, app.options.prefix));
      if (mapped.internal) {
        if (req.destroyed || res.destroyed) {
          app.log.warn({ reqId: id, err }, 'request aborted by the client');
          return;
        }
        app.log.error({ reqId: id, err, method: req.method, url: req.url }, 'unhandled error');
      }
      // A body the handler stopped reading (a write failed mid-upload) is read to its end and
      // dropped: a client still sending it would not see the answer otherwise.
      if (!req.complete) req.resume();
      sendError(res, mapped);
    });
  };
}

export interface ServerLimits {
  /** Time allowed to receive a request's headers. */
  headersTimeoutMs: number;
  /** Idle keep-alive connections are closed after this. */
  keepAliveTimeoutMs: number;
  /** A connection on which nothing moves for this long (a stalled upload or download) is closed. */
  inactivityTimeoutMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = { headersTimeoutMs: 60_000, keepAliveTimeoutMs: 75_000, inactivityTimeoutMs: 300_000 };

/** PEM material for HTTPS (http.tls); with client CAs, clients must present a certificate they signed. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  clientCAs: Buffer[];
}

/**
 * The server: HTTP, or HTTPS with TLS material. Slow headers, idle keep-alive connections and
 * stalled transfers are cut; a long transfer that keeps moving is not.
 */
export function createHttpServer(app: App, limits: ServerLimits = DEFAULT_LIMITS, tls?: TlsMaterial): http.Server {
  const options = { requestTimeout: 0, headersTimeout: limits.headersTimeoutMs, keepAliveTimeout: limits.keepAliveTimeoutMs };
  const listener = createRequestListener(app);
  const mtls = tls !== undefined && tls.clientCAs.length > 0;
  const server =
    tls === undefined
      ? http.createServer(options, listener)
      : https.createServer(
          { ...options, cert: tls.cert, key: tls.key, ...(mtls ? { ca: tls.clientCAs, requestCert: true, rejectUnauthorized: true } : {}) },
          listener,
        );
  // No request timeout (a push of many GiB may take long), but a connection that stalls is cut.
  server.setTimeout(limits.inactivityTimeoutMs);
  return server;
}
