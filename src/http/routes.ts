/**
 * The route table, as data: each route has a name, a path pattern and its methods. The router,
 * the URL builder and the tests share it (after distribution's registry/api/v2/routes.go).
 * Repository names contain slashes, so a name is whatever precedes the route's fixed suffix.
 */

export const ROUTES = [
  { name: 'base', pattern: /^\/v2\/?$/, methods: ['GET', 'HEAD'] },
  { name: 'catalog', pattern: /^\/v2\/_catalog$/, methods: ['GET'] },
  { name: 'tags', pattern: /^\/v2\/(?<name>.+)\/tags\/list$/, methods: ['GET'] },
  { name: 'manifest', pattern: /^\/v2\/(?<name>.+)\/manifests\/(?<reference>[^/]+)$/, methods: ['GET', 'HEAD', 'PUT', 'DELETE'] },
  { name: 'upload-start', pattern: /^\/v2\/(?<name>.+)\/blobs\/uploads\/?$/, methods: ['POST'] },
  { name: 'upload', pattern: /^\/v2\/(?<name>.+)\/blobs\/uploads\/(?<uuid>[^/]+)$/, methods: ['GET', 'PATCH', 'PUT', 'DELETE'] },
  { name: 'blob', pattern: /^\/v2\/(?<name>.+)\/blobs\/(?<digest>[^/]+)$/, methods: ['GET', 'HEAD', 'DELETE'] },
  { name: 'referrers', pattern: /^\/v2\/(?<name>.+)\/referrers\/(?<digest>[^/]+)$/, methods: ['GET'] },
  { name: 'events', pattern: /^\/api\/v1\/events$/, methods: ['GET'] },
] as const;

export type Route = (typeof ROUTES)[number];
export type RouteName = Route['name'];
export type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** The route a path belongs to, whatever the method; undefined when none. */
export function matchRoute(path: string): RouteMatch | undefined {
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    if (m === null) continue;
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.groups ?? {})) {
      const d = decode(v);
      if (d === undefined) return undefined;
      params[k] = d;
    }
    return { route, params };
  }
  return undefined;
}

/** Paths of the routes (relative to the host), built from the same table's shape. */
export const paths = {
  base: () => '/v2/',
  catalog: () => '/v2/_catalog',
  tags: (name: string) => `/v2/${name}/tags/list`,
  manifest: (name: string, reference: string) => `/v2/${name}/manifests/${reference}`,
  uploadStart: (name: string) => `/v2/${name}/blobs/uploads/`,
  upload: (name: string, uuid: string) => `/v2/${name}/blobs/uploads/${uuid}`,
  blob: (name: string, digest: string) => `/v2/${name}/blobs/${digest}`,
  referrers: (name: string, digest: string) => `/v2/${name}/referrers/${digest}`,
  events: () => '/api/v1/events',
};
