/**
 * The retention planner: what a policy keeps and deletes in a repository, and why, from the
 * repository's tags with their push and pull times and its old untagged manifests. Pure: the same
 * inputs and clock give the same plan, and nothing is deleted here (apply.ts does that).
 *
 * The rules, as docs/retention.md states them:
 * - a policy with no tag rule (keep.newest, keep.tags, delete.notpulledfor) deletes no tag;
 * - otherwise a tag is kept if ANY keep rule keeps it: it is among the `newest` N by push time
 *   (ties: the name that sorts last in byte order counts as newer), or it matches one of `tags`;
 * - a tag no keep rule keeps is deleted, unless `delete.notpulledfor` is set and the tag was
 *   pulled or pushed less than that long ago (a tag never pulled counts from its push);
 * - `delete.untaggedafter`: manifests no tag points at, untagged at least that long (since they
 *   lost their last tag, or their push when they never had one or lost it before berth recorded it), are
 *   deleted, except a child of one of the repository's indexes or a referrer whose subject is
 *   still there (they go once what refers to them is gone).
 */
import type { MetaStore } from '../meta/store.ts';
import type { TagActivity, TagActivityStore, UntaggedManifest } from '../meta/tag-activity.ts';
import { formatAge, matchTagPatterns, patternCovers, policyFor, type RetentionPolicy } from './policy.ts';

/**
 * The rule that decided a tag: a keep rule, the age rule, `unkept` (tag rules exist, none keeps it),
 * `none` (no tag rule), or `immutable` (the policy would delete it, an immutable tag rule holds it).
 */
export type TagRule = 'keep.newest' | 'keep.tags' | 'delete.notpulledfor' | 'unkept' | 'none' | 'immutable';

/** Of the tags a policy would delete, those something else holds (immutable tags), each with why. */
export type HeldTags = (repository: string, tags: readonly string[]) => Promise<ReadonlyMap<string, string>>;

export interface TagDecision extends TagActivity {
  action: 'keep' | 'delete';
  rule: TagRule;
  /** The decision in words, for the preview. */
  reason: string;
}

export interface UntaggedDecision extends UntaggedManifest {
  reason: string;
}

export interface RepositoryPlan {
  repository: string;
  /** The pattern of the policy that applies. */
  policy: string;
  /** Every tag, in name order, kept or deleted. */
  tags: TagDecision[];
  /** Untagged manifests to delete, oldest first. */
  untagged: UntaggedDecision[];
  /** Why the policy decided nothing here (a keep pattern that does not compile); nothing is deleted then. */
  error?: string;
}

export interface RetentionPlan {
  /** The clock the plan was made at (ms since epoch). */
  now: number;
  /** Repositories a policy applies to, in name order. */
  repositories: RepositoryPlan[];
}

const DAY_MS = 86_400_000;

function ago(now: number, at: number): string {
  const ms = Math.max(0, now - at);
  if (ms >= DAY_MS) return `${Math.floor(ms / DAY_MS)} days ago`;
  if (ms >= 3_600_000) return `${Math.floor(ms / 3_600_000)} hours ago`;
  return `${Math.floor(ms / 60_000)} minutes ago`;
}

function day(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** Newest first: by push time, ties by name in byte order, the later name first. */
function byNewest(a: TagActivity, b: TagActivity): number {
  if (a.pushedAt !== b.pushedAt) return b.pushedAt - a.pushedAt;
  return a.tag < b.tag ? 1 : a.tag > b.tag ? -1 : 0;
}

/** When the tag was last used: its last pull or its push, whichever is later. */
function lastUsed(t: TagActivity): number {
  return Math.max(t.pushedAt, t.pulledAt ?? 0);
}

function usedWords(t: TagActivity, now: number): string {
  return t.pulledAt === null || t.pulledAt < t.pushedAt
    ? `not pulled since its push ${ago(now, t.pushedAt)} (${day(t.pushedAt)})`
    : `last pulled ${ago(now, t.pulledAt)} (${day(t.pulledAt)})`;
}

/** The decision on each tag of a repository (in name order). Throws on a keep pattern RE2 cannot compile (tagPatternProblem refuses those). */
export function decideTags(policy: RetentionPolicy, tags: readonly TagActivity[], now: number): TagDecision[] {
  const { newest } = policy.keep;
  const patterns = policy.keep.tags;
  const maxIdle = policy.delete.notpulledfor;
  const byName = [...tags].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  if (newest === undefined && patterns.length === 0 && maxIdle === undefined) {
    return byName.map((t) => ({ ...t, action: 'keep', rule: 'none', reason: 'the policy has no tag rule' }));
  }
  const rank = new Map([...tags].sort(byNewest).map((t, i) => [t.tag, i + 1]));
  const matched = matchTagPatterns(patterns, byName.map((t) => t.tag));
  return byName.map((t, i): TagDecision => {
    const r = rank.get(t.tag) ?? Number.MAX_SAFE_INTEGER;
    if (newest !== undefined && r <= newest) return { ...t, action: 'keep', rule: 'keep.newest', reason: `newest ${r} of ${tags.length} (keep.newest: ${newest})` };
    const m = matched[i] ?? -1;
    if (m >= 0) return { ...t, action: 'keep', rule: 'keep.tags', reason: `matches ${JSON.stringify(patterns[m])} (keep.tags)` };
    if (maxIdle !== undefined) {
      const recent = now - lastUsed(t) < maxIdle;
      const words = `${usedWords(t, now)}; delete.notpulledfor: ${formatAge(maxIdle)}`;
      return recent ? { ...t, action: 'keep', rule: 'delete.notpulledfor', reason: words } : { ...t, action: 'delete', rule: 'delete.notpulledfor', reason: words };
    }
    const unkept = [newest !== undefined && `not among the newest ${newest}`, patterns.length > 0 && 'matches no keep.tags pattern'].filter(Boolean).join(', ');
    return { ...t, action: 'delete', rule: 'unkept', reason: unkept };
  });
}

/** The plan of one repository under a policy. */
/** What planning reads. */
export type PlanSource = Pick<TagActivityStore, 'tagActivity' | 'untaggedManifests'>;

export async function planRepository(store: PlanSource, repository: string, policy: RetentionPolicy, now: number, held?: HeldTags): Promise<RepositoryPlan> {
  const plan: RepositoryPlan = { repository, policy: policy.repository, tags: [], untagged: [] };
  const tags = await store.tagActivity(repository);
  try {
    plan.tags = decideTags(policy, tags, now);
  } catch (err) {
    // Nothing of this repository is deleted when its policy cannot decide.
    plan.tags = tags.map((t) => ({ ...t, action: 'keep', rule: 'none', reason: 'the policy could not decide' }));
    plan.error = (err as Error).message;
    return plan;
  }
  const deleting = plan.tags.filter((t) => t.action === 'delete').map((t) => t.tag);
  const holds = held === undefined || deleting.length === 0 ? new Map<string, string>() : await held(repository, deleting);
  if (holds.size > 0) {
    plan.tags = plan.tags.map((t) => {
      const why = t.action === 'delete' ? holds.get(t.tag) : undefined;
      return why === undefined ? t : { ...t, action: 'keep', rule: 'immutable', reason: `${why}; the policy would delete it: ${t.reason}` };
    });
  }
  const maxAge = policy.delete.untaggedafter;
  if (maxAge !== undefined) {
    const untagged = await store.untaggedManifests(repository, now - maxAge);
    plan.untagged = untagged.map((m) => {
      const since = m.untaggedAt > m.createdAt ? `untagged ${ago(now, m.untaggedAt)} (${day(m.untaggedAt)})` : `untagged since its push ${ago(now, m.createdAt)} (${day(m.createdAt)})`;
      return { ...m, reason: `${since}; delete.untaggedafter: ${formatAge(maxAge)}` };
    });
  }
  return plan;
}

export interface PlanOptions {
  /** Where the repositories are listed. */
  meta: Pick<MetaStore, 'listRepositories'>;
  store: PlanSource;
  policies: readonly RetentionPolicy[];
  now: number;
  /** Only this repository (the repository settings page's preview). */
  repository?: string;
  /** Only the repositories this pattern covers (a namespace's preview), each under the policy that applies to it. */
  within?: string;
  /** What holds tags the policies would delete (immutable tag rules): they are kept, with the reason. */
  held?: HeldTags;
}

/** Every repository a policy applies to, one after the other, with its plan. */
export async function* planEach(opts: PlanOptions): AsyncGenerator<RepositoryPlan> {
  if (opts.policies.length === 0) return;
  const names = opts.repository === undefined ? listAll(opts.meta) : single(opts.repository);
  for await (const name of names) {
    if (opts.within !== undefined && !patternCovers(opts.within, name)) continue;
    const policy = policyFor(name, opts.policies);
    if (policy !== undefined) yield await planRepository(opts.store, name, policy, opts.now, opts.held);
  }
}

/** The whole plan (a dry run: nothing is deleted). */
export async function planRetention(opts: PlanOptions): Promise<RetentionPlan> {
  const repositories: RepositoryPlan[] = [];
  for await (const plan of planEach(opts)) repositories.push(plan);
  return { now: opts.now, repositories };
}

async function* single(name: string): AsyncGenerator<string> {
  yield name;
}

async function* listAll(meta: Pick<MetaStore, 'listRepositories'>): AsyncGenerator<string> {
  let last: string | undefined;
  for (;;) {
    const page = await meta.listRepositories({ n: 1000, ...(last !== undefined && { last }) });
    yield* page;
    if (page.length < 1000) return;
    last = page.at(-1);
  }
}
