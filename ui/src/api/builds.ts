/** Automated builds (docs/builds.md; the API in docs/ui-api.md). */
import { BASE } from '../lib/base.ts';
import { api, encodeName } from './client.ts';

export type BuildStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface Build {
  id: number;
  repository: string;
  rule: string;
  status: BuildStatus;
  ref: string;
  commit: string | null;
  tag: string;
  digest: string | null;
  trigger: 'hook' | 'poll' | 'manual';
  requestedBy: string | null;
  error: string | null;
  created: string | null;
  started: string | null;
  finished: string | null;
}

export interface BuildRule {
  id: string;
  gitUrl: string;
  sourceType: 'branch' | 'tag';
  source: string;
  tag: string;
  dockerfile: string;
  context: string;
  buildArgs: Record<string, string>;
  poll: boolean;
  credential: 'token' | 'ssh' | null;
  hookUrl: string;
  createdBy: string | null;
}

export interface RuleInput {
  gitUrl: string;
  sourceType: 'branch' | 'tag';
  source: string;
  tag: string;
  dockerfile?: string;
  context?: string;
  poll?: boolean;
  credential?: { kind: 'token' | 'ssh'; secret: string };
}

const base = (name: string) => `/repositories/${encodeName(name)}/_builds`;

export const FINAL: ReadonlySet<BuildStatus> = new Set(['succeeded', 'failed', 'cancelled']);

export function listBuilds(name: string, signal?: AbortSignal): Promise<Build[]> {
  return api<Build[]>(base(name), { query: { limit: 50 }, ...(signal && { signal }) });
}

export function triggerBuild(name: string): Promise<Build[]> {
  return api<Build[]>(base(name), { method: 'POST', body: {} });
}

export function cancelBuild(name: string, id: number): Promise<Build> {
  return api<Build>(`${base(name)}/${id}`, { method: 'DELETE' });
}

export function listRules(name: string, signal?: AbortSignal): Promise<BuildRule[]> {
  return api<BuildRule[]>(`${base(name)}/rules`, { ...(signal && { signal }) });
}

export function addRule(name: string, rule: RuleInput): Promise<BuildRule & { hookSecret: string }> {
  return api<BuildRule & { hookSecret: string }>(`${base(name)}/rules`, { method: 'POST', body: rule });
}

export function deleteRule(name: string, id: string): Promise<void> {
  return api<void>(`${base(name)}/rules/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

/** The live log's URL (server-sent events, with the session cookie). */
export function logUrl(name: string, id: number): string {
  return `${BASE}/api/v1${base(name)}/${id}/log`;
}
