/**
 * The mirror, built from the `proxy` config section: one client per upstream, the pull-through
 * blob and manifest services that decorate the registry's own, and the counters behind
 * `berth mirror status`. main.ts hands `decorate` to the Registry.
 */
import type { Logger } from 'pino';
import type { ProxyConfig } from '../config/proxy-schema.ts';
import type { BlobStore } from '../registry/blobs.ts';
import type { ManifestStore } from '../registry/manifests.ts';
import type { LocalServices } from '../registry/registry.ts';
import { PullThroughBlobs } from './blobs.ts';
import { PullThroughManifests } from './manifests.ts';
import { routesFromConfig, UpstreamRouter, type PullThroughDeps } from './routing.ts';
import { MirrorStats, type MirrorObserver, type MirrorStatus } from './stats.ts';
import { UpstreamClient } from './upstream.ts';

export interface Mirror {
  readonly router: UpstreamRouter;
  /** Wrap the registry's own services (RegistryOptions.decorate). */
  decorate(local: LocalServices): { blobs: BlobStore; manifests: ManifestStore };
  status(): MirrorStatus;
  /** Close idle upstream connections. */
  close(): void;
}

export interface MirrorOptions {
  log: Logger;
  /** Told of every mirrored request and byte count (Prometheus). */
  observer?: MirrorObserver;
  /** Told of each manifest fetched and stored (src/events/emitting-stores.ts mirrorFillEmitter). */
  onManifestFetched?: PullThroughDeps['onManifestFetched'];
}

export function createProxy(config: ProxyConfig, opts: MirrorOptions): Mirror {
  const routes = routesFromConfig(config);
  const router = new UpstreamRouter(routes);
  const stats = new MirrorStats(routes, opts.observer);
  const log = opts.log.child({ component: 'mirror' });
  const clients = new Map(
    routes.map((r) => [
      r.name,
      new UpstreamClient({
        name: r.name,
        url: r.url,
        username: r.username,
        password: r.password,
        connectTimeoutMs: config.connecttimeout,
        idleTimeoutMs: config.idletimeout,
      }),
    ]),
  );
  for (const r of routes) log.info({ upstream: r.name, url: r.url, prefix: r.prefix, remoteprefix: r.remoteprefix, ttlMs: r.ttlMs }, 'mirroring');
  return {
    router,
    decorate: (local) => {
      const client = (name: string): UpstreamClient => {
        const c = clients.get(name);
        if (c === undefined) throw new Error(`no client for upstream ${name}`);
        return c;
      };
      const deps: PullThroughDeps = { local, router, client, stats, log, onManifestFetched: opts.onManifestFetched };
      const blobs = new PullThroughBlobs(deps);
      const manifests = new PullThroughManifests(deps, (repo, seen) => blobs.expect(repo, seen));
      return { blobs, manifests };
    },
    status: () => stats.status(),
    close: () => {
      for (const c of clients.values()) c.close();
    },
  };
}
