/**
 * Which upstream, if any, a repository name belongs to: each upstream claims the names under its
 * prefix (the longest prefix wins; an empty prefix claims the rest), and the name asked of the
 * upstream is the local one with `prefix` replaced by `remoteprefix`. Names no upstream claims
 * are the registry's own.
 */
import type { Logger } from 'pino';
import type { ProxyConfig } from '../config/proxy-schema.ts';
import type { ManifestRecord } from '../meta/store.ts';
import type { LocalServices } from '../registry/registry.ts';
import type { MirrorStats } from './stats.ts';
import type { UpstreamClient } from './upstream.ts';

export interface UpstreamRoute {
  /** The upstream's name (config `name`, or the host of `remoteurl`). */
  name: string;
  prefix: string;
  remoteprefix: string;
  url: string;
  username?: string;
  password?: string;
  /** Milliseconds a cached tag is served before it is revalidated. */
  ttlMs: number;
}

/** The repository as the upstream knows it, and the route it came through. */
export interface Claim {
  route: UpstreamRoute;
  remote: string;
}

/** The routes a proxy config describes: remoteurl (distribution's form) claims the empty prefix. */
export function routesFromConfig(proxy: ProxyConfig): UpstreamRoute[] {
  const routes: UpstreamRoute[] = proxy.upstreams.map((u) => ({
    name: u.name,
    prefix: u.prefix,
    remoteprefix: u.remoteprefix,
    url: u.url,
    username: u.username,
    password: u.password,
    ttlMs: u.ttl ?? proxy.ttl,
  }));
  if (proxy.remoteurl !== undefined) {
    routes.push({
      name: new URL(proxy.remoteurl).host,
      prefix: '',
      remoteprefix: '',
      url: proxy.remoteurl,
      username: proxy.username,
      password: proxy.password,
      ttlMs: proxy.ttl,
    });
  }
  return routes;
}

/**
 * The names the mirror reserves: the first component of every non-empty prefix (`ghcr.io` for
 * `ghcr.io/`, `mirror` for `mirror/hub/`), which no user or organisation may take, since its owner
 * would hold rights on the mirrored names under it. An empty prefix (remoteurl) reserves nothing.
 */
export function mirrorNamespaces(proxy: ProxyConfig | undefined): string[] {
  if (proxy === undefined) return [];
  const names = routesFromConfig(proxy).map((r) => r.prefix.split('/')[0] ?? '');
  return [...new Set(names.filter((n) => n !== ''))].sort();
}

export class UpstreamRouter {
  /** Longest prefix first. */
  private readonly routes: readonly UpstreamRoute[];

  constructor(routes: readonly UpstreamRoute[]) {
    this.routes = [...routes].sort((a, b) => b.prefix.length - a.prefix.length);
  }

  get all(): readonly UpstreamRoute[] {
    return this.routes;
  }

  /** The upstream claiming `repo`, or undefined for the registry's own repositories. */
  claim(repo: string): Claim | undefined {
    for (const route of this.routes) {
      if (!repo.startsWith(route.prefix)) continue;
      const rest = repo.slice(route.prefix.length);
      if (rest === '') continue;
      return { route, remote: route.remoteprefix + rest };
    }
    return undefined;
  }
}

/** What the pull-through services share: the local services they decorate and the upstreams. */
export interface PullThroughDeps {
  local: LocalServices;
  router: UpstreamRouter;
  /** The client of the upstream of that name. */
  client(upstream: string): UpstreamClient;
  stats: MirrorStats;
  log: Logger;
  /** Told of each manifest fetched from an upstream and stored, before it is served (notification events). */
  onManifestFetched?: (fetched: { repository: string; record: ManifestRecord; content: Buffer; tag?: string }) => Promise<void>;
}
