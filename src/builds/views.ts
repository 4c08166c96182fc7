/** Builds and rules as the API and `berth build ... --json` show them: times as ISO 8601, never a secret. */
import type { Build, BuildRule } from './model.ts';

const iso = (ms: number | null): string | null => (ms === null || ms === 0 ? null : new Date(ms).toISOString());

export function buildView(b: Build): Record<string, unknown> {
  return {
    id: b.id,
    repository: b.repository,
    rule: b.ruleId,
    status: b.status,
    ref: b.ref,
    commit: b.commit,
    tag: b.tag,
    digest: b.digest,
    trigger: b.trigger,
    requestedBy: b.requestedBy,
    error: b.error,
    created: iso(b.createdAt),
    started: iso(b.startedAt),
    finished: iso(b.finishedAt),
  };
}

/** `hookUrl`: the rule's webhook URL as this server is reached (the API knows it; the CLI gives a path). */
export function ruleView(r: BuildRule, hookUrl: string): Record<string, unknown> {
  return {
    id: r.id,
    repository: r.repository,
    gitUrl: r.gitUrl,
    sourceType: r.sourceType,
    source: r.source,
    tag: r.tag,
    dockerfile: r.dockerfile,
    context: r.context,
    buildArgs: r.buildArgs,
    poll: r.poll,
    credential: r.credential,
    hookUrl,
    createdBy: r.createdBy,
    created: iso(r.createdAt),
    updated: iso(r.updatedAt),
  };
}

/** The webhook's path (relative to berth's address). */
export function hookPath(r: Pick<BuildRule, 'repository' | 'id'>): string {
  return `/api/v1/repositories/${r.repository}/builds/hook/${r.id}`;
}
