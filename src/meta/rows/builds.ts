/**
 * The rows of build_rules, builds and build_logs as both build stores read them
 * (sqlite/build-store.ts, postgres/build-store.ts), and their mapping to the records of
 * builds/model.ts. Placeholders stay in each store.
 */
import type { Build, BuildStatus, BuildTrigger, CredentialKind, NewBuild, SourceType, StoredBuildRule } from '../../builds/model.ts';
import { BuildQueueFullError } from '../../builds/errors.ts';
import { flag, type Flag } from './flag.ts';

export interface RuleRow {
  id: string;
  repository: string;
  git_url: string;
  source_type: string;
  source: string;
  tag: string;
  dockerfile: string;
  context: string;
  build_args: string;
  poll: Flag;
  credential_kind: string | null;
  credential: string | null;
  hook_secret: string;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export const RULE_COLUMNS =
  'id, repository, git_url, source_type, source, tag, dockerfile, context, build_args, poll, credential_kind, credential, hook_secret, created_by, created_at, updated_at';

export function toRule(r: RuleRow): StoredBuildRule {
  return {
    id: r.id,
    repository: r.repository,
    gitUrl: r.git_url,
    sourceType: r.source_type as SourceType,
    source: r.source,
    tag: r.tag,
    dockerfile: r.dockerfile,
    context: r.context,
    buildArgs: JSON.parse(r.build_args) as Record<string, string>,
    poll: flag(r.poll),
    credential: r.credential_kind as CredentialKind | null,
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    sealedHookSecret: r.hook_secret,
    sealedCredential: r.credential,
  };
}

/** The values of a rule's row, in RULE_COLUMNS order (poll as 0/1 or a boolean, as the dialect stores flags). */
export function ruleValues(rule: StoredBuildRule, poll: number | boolean): unknown[] {
  return [
    rule.id,
    rule.repository,
    rule.gitUrl,
    rule.sourceType,
    rule.source,
    rule.tag,
    rule.dockerfile,
    rule.context,
    JSON.stringify(rule.buildArgs),
    poll,
    rule.credential,
    rule.sealedCredential,
    rule.sealedHookSecret,
    rule.createdBy,
    rule.createdAt,
    rule.updatedAt,
  ];
}

export interface BuildRow {
  id: number;
  repository: string;
  rule_id: string;
  ref: string;
  commit_sha: string | null;
  tag: string;
  status: string;
  digest: string | null;
  trigger_kind: string;
  requested_by: string | null;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export const BUILD_COLUMNS =
  'id, repository, rule_id, ref, commit_sha, tag, status, digest, trigger_kind, requested_by, error, created_at, started_at, finished_at';

export function toBuild(r: BuildRow): Build {
  return {
    id: r.id,
    repository: r.repository,
    ruleId: r.rule_id,
    ref: r.ref,
    commit: r.commit_sha,
    tag: r.tag,
    status: r.status as BuildStatus,
    digest: r.digest,
    trigger: r.trigger_kind as BuildTrigger,
    requestedBy: r.requested_by,
    error: r.error,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

/** A running build's lease columns, read by claim. */
export interface LeaseRow extends BuildRow {
  claimed_by: string | null;
  claimed_until: number | null;
  attempts: number;
}

/** How many times a build whose node stopped mid-way is queued again before it fails. */
export const MAX_BUILD_ATTEMPTS = 2;
/** The error of a build given up after its node stopped MAX_BUILD_ATTEMPTS times. */
export const INTERRUPTED = 'interrupted: the node running it stopped';
/** Error texts are kept this short. */
export const MAX_ERROR_CHARS = 2000;

/** The rule's queue is full (both stores say it the same way). */
export function queueFull(maxQueued: number): BuildQueueFullError {
  return new BuildQueueFullError(`this rule has ${maxQueued} builds queued already: wait for them to start (or cancel some)`);
}

/**
 * What enqueue does with `b`, given the newest build of its rule and reference: point that one at
 * b's commit when it is still queued; keep it, queueing nothing, when a webhook or a poll names the
 * commit it runs or built (a delivery sent again, or replayed: its signature holds, but it is old
 * news); else queue a new build (undefined). A manual trigger always builds.
 */
export function sameBuild(newest: Build | undefined, b: NewBuild): 'repoint' | 'keep' | undefined {
  if (newest === undefined) return undefined;
  if (newest.status === 'queued') return 'repoint';
  if (b.trigger !== 'manual' && b.commit !== null && newest.commit === b.commit && (newest.status === 'running' || newest.status === 'succeeded')) return 'keep';
  return undefined;
}
