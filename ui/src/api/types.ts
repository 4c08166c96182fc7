/** The JSON shapes of berth's /api/v1 (docs/ui-api.md). */

export type Visibility = 'public' | 'private';
export type RepositoryAction = 'pull' | 'push' | 'delete' | 'admin';

export interface SessionUser {
  name: string;
  admin: boolean;
  orgs: string[];
}

export interface Session {
  user: SessionUser | null;
  csrfToken: string | null;
  accessControl: boolean;
}

export interface RepositorySummary {
  name: string;
  namespace: string;
  description: string;
  starCount: number;
  pullCount: number;
  isOfficial: boolean;
  isAutomated: boolean;
  updatedAt: string | null;
  visibility: Visibility;
}

export interface SearchPage {
  query: string;
  total: number;
  page: number;
  perPage: number;
  pages: number;
  results: RepositorySummary[];
}

export interface Repository extends RepositorySummary {
  visibility: Visibility;
  fullDescription?: string;
  starred?: boolean;
  actions: RepositoryAction[];
  createdAt: string | null;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
}

export interface Tag {
  name: string;
  digest: string;
  mediaType: string;
  artifactType?: string | null;
  size: number;
  platforms: Platform[];
  pushedAt: string | null;
}

export interface TagPage {
  total: number;
  page: number;
  perPage: number;
  pages: number;
  tags: Tag[];
}

export interface Descriptor {
  digest: string;
  mediaType: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface ImageConfig {
  digest: string;
  mediaType: string;
  size: number;
  created?: string;
  author?: string;
  os?: string;
  architecture?: string;
  variant?: string;
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
  exposedPorts?: string[];
  volumes?: string[];
  stopSignal?: string;
}

export interface HistoryEntry {
  created?: string;
  createdBy?: string;
  author?: string;
  comment?: string;
  emptyLayer: boolean;
}

export interface Referrer {
  digest: string;
  mediaType: string;
  artifactType?: string | null;
  size: number;
  annotations?: Record<string, string> | null;
  createdAt?: string | null;
}

export interface ManifestDetail {
  name: string;
  reference: string;
  digest: string;
  mediaType: string;
  artifactType?: string | null;
  size: number;
  totalSize: number;
  tags: string[];
  createdAt: string | null;
  kind: 'index' | 'image' | 'artifact';
  manifest: unknown;
  subject?: string;
  annotations?: Record<string, string>;
  /** An index's platforms: `size` is the platform's manifest's, `totalSize` its image's (manifest, config and layers), null when not held here. */
  platforms?: { digest: string; mediaType: string; size: number; totalSize: number | null; platform: Platform }[];
  config?: ImageConfig;
  layers?: Descriptor[];
  history?: HistoryEntry[];
  referrers?: Referrer[];
}

export interface User {
  name: string;
  admin: boolean;
  createdAt: string | null;
  orgs?: string[];
}

/** 'pat' (an access token), 'refresh' (a `docker login`), 'session' (a web sign-in). */
export type TokenKind = 'pat' | 'refresh' | 'session';

export interface Token {
  id: string;
  name: string;
  kind: TokenKind;
  scopes: string[] | null;
  createdAt: string | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

export interface CreatedToken extends Token {
  secret: string;
}

export interface OrgSummary {
  name: string;
  createdAt: string | null;
}

export interface OrgMember {
  user: string;
  owner: boolean;
}

export type Role = 'read' | 'write' | 'admin';

export interface Team {
  name: string;
  members: string[];
  permissions: { repository: string; role: Role }[];
}

export interface Org {
  name: string;
  createdAt: string | null;
  members: OrgMember[];
  teams: Team[];
}

export interface StorageReport {
  total: { bytes: number; blobs: number };
  namespaces: { namespace: string; bytes: number; repositories: number }[];
  samples: { at: string; total: number; namespaces: Record<string, number> }[];
}

export interface UpstreamStatus {
  name: string;
  prefix: string;
  url: string;
  hits: number;
  misses: number;
  staleServed: number;
  errors: number;
  bytesFetched: number;
  bytesSaved: number;
  lastError?: { at: string; reason: string } | null;
}

export interface EventsStatus {
  endpoints: { name: string; pending: number; failed: number; oldestCreatedAt: string; lastError: string | null }[];
  deliveries: {
    id: number;
    endpoint: string;
    state: 'pending' | 'failed';
    attempts: number;
    createdAt: string;
    nextAttemptAt: string;
    lastError: string | null;
    event: { id: string; action: string; repository: string; digest?: string; tag?: string; mediaType?: string };
  }[];
}
