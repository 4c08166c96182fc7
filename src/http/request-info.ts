/**
 * The request as notification events describe it (distribution's RequestRecord): request id,
 * client address, Host, method and User-Agent. Built once per event from the request context.
 * The address is the client's as http/client-address.ts finds it: read from X-Forwarded-For only
 * when a trusted proxy (http.trustedproxies) sent the request, else the socket's `ip:port`.
 * distribution believes X-Forwarded-For's first entry (or X-Real-IP) from anyone, so any client
 * could write what the audit trail records.
 */
import type { RequestInfo } from '../events/event.ts';
import type { EventContext } from '../events/context.ts';
import { causedBy, storesCausedBy, type ServedStores } from '../events/emitting-stores.ts';
import type { ManifestStore } from '../registry/manifests.ts';
import type { App, RequestContext } from './context.ts';
import { clientEndpoint } from './client-address.ts';
import { paths } from './routes.ts';

function header(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first.trim() === '' ? undefined : first;
}

export function requestInfo(ctx: RequestContext): RequestInfo {
  return {
    id: ctx.id,
    addr: clientEndpoint(ctx.req),
    host: header(ctx.req.headers.host) ?? '',
    method: ctx.req.method ?? '',
    useragent: header(ctx.req.headers['user-agent']) ?? '',
  };
}

/** The registry's stores as this request changes and reads them: the events they emit name it. */
export function storesOf(ctx: RequestContext, app: App): ServedStores {
  return storesCausedBy(app.registry, eventContext(ctx));
}

/** The registry's manifests as this request reads and changes them (storesOf's, without the other stores). */
export function manifestsOf(ctx: RequestContext, app: App): ManifestStore {
  return causedBy(app.registry.manifests, eventContext(ctx));
}

/**
 * The cause of the events a request makes the stores emit (events/context.ts): its record,
 * with the authenticated user as the actor (read when the event is built, after authorisation),
 * and target URLs as this client reaches the registry.
 */
export function eventContext(ctx: RequestContext): EventContext {
  return {
    request: () => {
      const info = requestInfo(ctx);
      return ctx.principal.kind === 'user' ? { ...info, actor: ctx.principal.name } : info;
    },
    urls: {
      manifest: (repository, digest) => ctx.url(paths.manifest(repository, digest)),
      blob: (repository, digest) => ctx.url(paths.blob(repository, digest)),
    },
  };
}
