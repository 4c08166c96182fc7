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
  { name: 'mirror', pattern: /^\/api\/v1\/mirror$/, methods: ['GET'] },
  { name: 'token', pattern: /^\/auth\/token$/, methods: ['GET', 'POST'] },
  { name: 'jwks', pattern: /^\/auth\/jwks\.json$/, methods: ['GET'] },
  // The management API (handlers/api-*.ts): accounts, organisations, teams, tokens, repository settings.
  { name: 'api-me', pattern: /^\/api\/v1\/user$/, methods: ['GET'] },
  { name: 'api-users', pattern: /^\/api\/v1\/users$/, methods: ['GET', 'POST'] },
  { name: 'api-user', pattern: /^\/api\/v1\/users\/(?<user>[^/]+)$/, methods: ['GET', 'PATCH', 'DELETE'] },
  { name: 'api-tokens', pattern: /^\/api\/v1\/users\/(?<user>[^/]+)\/tokens$/, methods: ['GET', 'POST'] },
  { name: 'api-token', pattern: /^\/api\/v1\/users\/(?<user>[^/]+)\/tokens\/(?<id>[^/]+)$/, methods: ['DELETE'] },
  { name: 'api-orgs', pattern: /^\/api\/v1\/orgs$/, methods: ['GET', 'POST'] },
  { name: 'api-org', pattern: /^\/api\/v1\/orgs\/(?<org>[^/]+)$/, methods: ['GET', 'DELETE'] },
  { name: 'api-org-member', pattern: /^\/api\/v1\/orgs\/(?<org>[^/]+)\/members\/(?<user>[^/]+)$/, methods: ['PUT', 'DELETE'] },
  { name: 'api-teams', pattern: /^\/api\/v1\/orgs\/(?<org>[^/]+)\/teams$/, methods: ['POST'] },
  { name: 'api-team', pattern: /^\/api\/v1\/orgs\/(?<org>[^/]+)\/teams\/(?<team>[^/]+)$/, methods: ['DELETE'] },
  { name: 'api-team-member', pattern: /^\/api\/v1\/orgs\/(?<org>[^/]+)\/teams\/(?<team>[^/]+)\/members\/(?<user>[^/]+)$/, methods: ['PUT', 'DELETE'] },
  { name: 'api-team-permissions', pattern: /^\/api\/v1\/orgs\/(?<org>[^/]+)\/teams\/(?<team>[^/]+)\/permissions$/, methods: ['PUT'] },
  // Discovery (handlers/search.ts, api-stars.ts). Suffix routes on a repository go before the greedy api-repository.
  { name: 'v1-ping', pattern: /^\/v1\/_ping$/, methods: ['GET', 'HEAD'] },
  { name: 'v1-search', pattern: /^\/v1\/search$/, methods: ['GET'] },
  { name: 'api-search', pattern: /^\/api\/v1\/search$/, methods: ['GET'] },
  { name: 'api-repository-star', pattern: /^\/api\/v1\/repositories\/(?<name>.+)\/_star$/, methods: ['PUT', 'DELETE'] },
  // The web UI's views of a repository's content (handlers/api-content.ts); `_` cannot start a name component.
  { name: 'api-repository-tags', pattern: /^\/api\/v1\/repositories\/(?<name>.+)\/_tags$/, methods: ['GET'] },
  { name: 'api-repository-tag', pattern: /^\/api\/v1\/repositories\/(?<name>.+)\/_tags\/(?<tag>[^/]+)$/, methods: ['DELETE'] },
  { name: 'api-repository-manifest', pattern: /^\/api\/v1\/repositories\/(?<name>.+)\/_manifests\/(?<reference>[^/]+)$/, methods: ['GET'] },
  // Retention (handlers/api-retention.ts): a repository's policy and dry run, and the policies themselves.
  { name: 'api-repository-retention', pattern: /^\/api\/v1\/repositories\/(?<name>.+)\/_retention$/, methods: ['GET'] },
  { name: 'api-retention-policies', pattern: /^\/api\/v1\/retention\/policies$/, methods: ['GET', 'PUT', 'DELETE'] },
  { name: 'api-retention-preview', pattern: /^\/api\/v1\/retention\/preview$/, methods: ['GET'] },
  // Automated builds (handlers/api-builds.ts): management under `_builds`; the webhook and the badge at the
  // paths Git hosts and READMEs are given (they shadow only a repository literally named .../builds/hook/x).
  { name: 'api-repository-builds', pattern: /^\/api\/v1\/repositories\/(?<name>.+)\/_builds$/, methods: ['GET', 'POST'] },
  { name: 'api-repository-build-rules', pattern: /^\/api\/v1\/repositories\/(?<name>.+)\/_builds\/rules$/, methods: ['GET', 'POST'] },
  { name: 'api-repository-build-rule', pattern: /^\/api\/v1\/repositories\/(?<name>.+)\/_builds\/rules\/(?<rule>[A-Za-z0-9_-]+)$/, methods: ['PUT', 'DELETE'] },
  { name: 'api-repository-build', pattern: /^\/api\/v1\/repositories\/(?<name>.+)\/_builds\/(?<id>[0-9]+)$/, methods: ['GET', 'DELETE'] },
  { name: 'api-repository-build-log', pattern: /^\/api\/v1\/repositories\/(?<name>.+)\/_builds\/(?<id>[0-9]+)\/log$/, methods: ['GET'] },
  { name: 'api-build-hook', pattern: /^\/api\/v1\/repositories\/(?<name>.+)\/builds\/hook\/(?<rule>[A-Za-z0-9_-]+)$/, methods: ['POST'] },
  { name: 'api-build-badge', pattern: /^\/api\/v1\/repositories\/(?<name>.+)\/builds\/badge\.svg$/, methods: ['GET'] },
  { name: 'api-repository', pattern: /^\/api\/v1\/repositories\/(?<name>.+)$/, methods: ['GET', 'PATCH', 'DELETE'] },
  // Browser sessions (handlers/api-session.ts) and administration (handlers/api-admin.ts).
  { name: 'api-session', pattern: /^\/api\/v1\/session$/, methods: ['GET', 'POST', 'DELETE'] },
  { name: 'api-admin-storage', pattern: /^\/api\/v1\/admin\/storage$/, methods: ['GET'] },
  // Immutable tags and quotas (handlers/api-immutable.ts, api-quotas.ts).
  { name: 'api-admin-immutable', pattern: /^\/api\/v1\/admin\/immutable$/, methods: ['GET', 'PUT', 'DELETE'] },
  { name: 'api-admin-quotas', pattern: /^\/api\/v1\/admin\/quotas$/, methods: ['GET'] },
  { name: 'api-namespace-quota', pattern: /^\/api\/v1\/namespaces\/(?<namespace>[^/]+)\/quota$/, methods: ['GET', 'PUT', 'DELETE'] },
  { name: 'api-admin-gc', pattern: /^\/api\/v1\/admin\/gc$/, methods: ['GET', 'POST'] },
  // Replication (handlers/api-replication.ts): the rules (the config's and the API's) and their runs.
  { name: 'api-replication', pattern: /^\/api\/v1\/replication$/, methods: ['GET', 'POST'] },
  { name: 'api-replication-rule', pattern: /^\/api\/v1\/replication\/(?<name>[a-z0-9][a-z0-9._-]{0,62})$/, methods: ['GET', 'PUT', 'DELETE'] },
  { name: 'api-replication-trigger', pattern: /^\/api\/v1\/replication\/(?<name>[a-z0-9][a-z0-9._-]{0,62})\/trigger$/, methods: ['POST'] },
  { name: 'api-replication-runs', pattern: /^\/api\/v1\/replication\/(?<name>[a-z0-9][a-z0-9._-]{0,62})\/runs$/, methods: ['GET'] },
] as const;

export type Route = (typeof ROUTES)[number];
export type RouteName = Route['name'];
/** What a request was served as, for logs and metrics: a route, the web UI's files ('ui'), or nothing that matched ('unknown'). */
export type ServedAs = RouteName | 'ui' | 'unknown';

/** The JSON API's routes (under /api/), told apart by their paths: the ones a web session may call. */
export const API_ROUTES: ReadonlySet<RouteName> = new Set(ROUTES.filter((r) => r.pattern.source.startsWith('^\\/api\\/')).map((r) => r.name));
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
      // most paths have nothing escaped: no decoding (and its try) for them
      const d = v.includes('%') ? decode(v) : v;
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
  mirror: () => '/api/v1/mirror',
  token: () => '/auth/token',
  jwks: () => '/auth/jwks.json',
  apiMe: () => '/api/v1/user',
  apiUsers: () => '/api/v1/users',
  apiUser: (user: string) => `/api/v1/users/${encodeURIComponent(user)}`,
  apiTokens: (user: string) => `/api/v1/users/${encodeURIComponent(user)}/tokens`,
  apiToken: (user: string, id: string) => `/api/v1/users/${encodeURIComponent(user)}/tokens/${encodeURIComponent(id)}`,
  apiOrgs: () => '/api/v1/orgs',
  apiOrg: (org: string) => `/api/v1/orgs/${encodeURIComponent(org)}`,
  apiOrgMember: (org: string, user: string) => `/api/v1/orgs/${encodeURIComponent(org)}/members/${encodeURIComponent(user)}`,
  apiTeams: (org: string) => `/api/v1/orgs/${encodeURIComponent(org)}/teams`,
  apiTeam: (org: string, team: string) => `/api/v1/orgs/${encodeURIComponent(org)}/teams/${encodeURIComponent(team)}`,
  apiTeamMember: (org: string, team: string, user: string) =>
    `/api/v1/orgs/${encodeURIComponent(org)}/teams/${encodeURIComponent(team)}/members/${encodeURIComponent(user)}`,
  apiTeamPermissions: (org: string, team: string) => `/api/v1/orgs/${encodeURIComponent(org)}/teams/${encodeURIComponent(team)}/permissions`,
  apiRepository: (name: string) => `/api/v1/repositories/${name}`,
  v1Ping: () => '/v1/_ping',
  v1Search: () => '/v1/search',
  apiSearch: () => '/api/v1/search',
  apiRepositoryStar: (name: string) => `/api/v1/repositories/${name}/_star`,
  apiRepositoryTags: (name: string) => `/api/v1/repositories/${name}/_tags`,
  apiRepositoryTag: (name: string, tag: string) => `/api/v1/repositories/${name}/_tags/${tag}`,
  apiRepositoryManifest: (name: string, reference: string) => `/api/v1/repositories/${name}/_manifests/${reference}`,
  apiRepositoryRetention: (name: string) => `/api/v1/repositories/${name}/_retention`,
  apiRetentionPolicies: () => '/api/v1/retention/policies',
  apiRetentionPreview: () => '/api/v1/retention/preview',
  apiSession: () => '/api/v1/session',
  apiAdminStorage: () => '/api/v1/admin/storage',
  apiAdminImmutable: () => '/api/v1/admin/immutable',
  apiAdminQuotas: () => '/api/v1/admin/quotas',
  apiNamespaceQuota: (namespace: string) => `/api/v1/namespaces/${encodeURIComponent(namespace)}/quota`,
  apiAdminGc: () => '/api/v1/admin/gc',
};
