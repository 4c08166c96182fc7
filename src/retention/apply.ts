/**
 * Retention applied: the plan of each repository (planner.ts), then its deletes through the
 * registry's served manifest store, as DELETE /v2/<name>/manifests/<reference> makes them, so
 * caches, the search index and notifications follow, and storage.delete.enabled and immutable tags
 * apply. Garbage collection calls applyRetention at the start of each run; blobs the deletes leave
 * unreferenced are collected by that run or the next.
 *
 * Online: a push may move a tag between the plan and its delete. Each tag is checked to still
 * point at the planned manifest, and each untagged manifest to still have no tag, right before
 * its delete; a tag moved in that instant can still go (the window is one meta store read).
 */
import type { Logger } from 'pino';
import type { ManifestStore } from '../registry/manifests.ts';
import type { MetaStore } from '../meta/store.ts';
import type { TagActivityStore } from '../meta/tag-activity.ts';
import { ManifestUnknownError } from '../registry/errors.ts';
import { asSystem, SYSTEM_ACTORS } from '../events/context.ts';
import { planEach, type HeldTags, type RepositoryPlan } from './planner.ts';
import type { RetentionPolicy } from './policy.ts';

export interface AppliedRepository extends RepositoryPlan {
  /** Tags deleted (in a dry run: that would be). */
  deletedTags: string[];
  /** Untagged manifests deleted (in a dry run: that would be). */
  deletedManifests: string[];
  /** Deletes refused or failed (an immutable tag, deletes disabled, a tag moved meanwhile), each in words. */
  errors: string[];
}

export interface RetentionReport {
  dryRun: boolean;
  now: number;
  repositories: AppliedRepository[];
  deleted: { tags: number; manifests: number };
  errors: number;
}

export interface ApplyOptions {
  /** What the deletes go through (Registry: `manifests` is the served store) and where repositories are listed. */
  registry: { manifests: Pick<ManifestStore, 'delete'>; meta: Pick<MetaStore, 'listRepositories' | 'resolveTag' | 'tagsOf'> };
  /** Tags with their push and pull times, untagged manifests (Backend.tagActivity). */
  store: TagActivityStore;
  policies: readonly RetentionPolicy[];
  now: number;
  /** Plan only: the report says what would be deleted. */
  dryRun: boolean;
  /** Only this repository. */
  repository?: string;
  /** Immutable tags: kept, with the reason (their delete would be refused anyway). */
  held?: HeldTags;
  log?: Logger;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Delete `reference` (a tag or digest) of the plan's repository unless `changed` says why it no
 * longer should ('gone': it went meanwhile, nothing to say); true once deleted (in a dry run: at once).
 */
async function deleteOne(applied: AppliedRepository, opts: ApplyOptions, reference: string, changed: () => Promise<string | undefined>): Promise<boolean> {
  if (opts.dryRun) return true;
  try {
    const why = await changed();
    if (why !== undefined) {
      if (why !== 'gone') applied.errors.push(`${reference}: ${why}; kept`);
      return false;
    }
    // its delete event says retention made it (actor berth-retention)
    await asSystem(SYSTEM_ACTORS.retention, () => opts.registry.manifests.delete(applied.repository, reference));
    return true;
  } catch (err) {
    if (!(err instanceof ManifestUnknownError)) applied.errors.push(`${reference}: ${message(err)}`);
    return false;
  }
}

async function applyRepository(plan: RepositoryPlan, opts: ApplyOptions): Promise<AppliedRepository> {
  const applied: AppliedRepository = { ...plan, deletedTags: [], deletedManifests: [], errors: plan.error === undefined ? [] : [plan.error] };
  const { meta } = opts.registry;
  const repo = plan.repository;
  for (const t of plan.tags) {
    if (t.action !== 'delete') continue;
    const moved = async () => {
      const now = await meta.resolveTag(repo, t.tag);
      return now === undefined ? 'gone' : now.digest !== t.digest ? `moved to ${now.digest} since the plan` : undefined;
    };
    if (await deleteOne(applied, opts, t.tag, moved)) applied.deletedTags.push(t.tag);
  }
  for (const m of plan.untagged) {
    const tagged = async () => ((await meta.tagsOf(repo, m.digest)).length > 0 ? 'tagged since the plan' : undefined);
    if (await deleteOne(applied, opts, m.digest, tagged)) applied.deletedManifests.push(m.digest);
  }
  return applied;
}

/**
 * Plan and (unless dryRun) apply every policy: tags through `manifests.delete(repo, tag)`, untagged
 * manifests through `manifests.delete(repo, digest)`. One repository's failures never stop the others.
 */
export async function applyRetention(opts: ApplyOptions): Promise<RetentionReport> {
  const report: RetentionReport = { dryRun: opts.dryRun, now: opts.now, repositories: [], deleted: { tags: 0, manifests: 0 }, errors: 0 };
  const each = planEach({
    meta: opts.registry.meta,
    store: opts.store,
    policies: opts.policies,
    now: opts.now,
    ...(opts.repository !== undefined && { repository: opts.repository }),
    ...(opts.held !== undefined && { held: opts.held }),
  });
  for await (const plan of each) {
    const applied = await applyRepository(plan, opts);
    report.repositories.push(applied);
    report.deleted.tags += applied.deletedTags.length;
    report.deleted.manifests += applied.deletedManifests.length;
    report.errors += applied.errors.length;
    if (!opts.dryRun && (applied.deletedTags.length > 0 || applied.deletedManifests.length > 0 || applied.errors.length > 0)) {
      opts.log?.info({ repository: plan.repository, policy: plan.policy, tags: applied.deletedTags, manifests: applied.deletedManifests, errors: applied.errors }, 'retention applied');
    }
  }
  // The records of when deleted manifests lost their tags go with them.
  if (!opts.dryRun) await opts.store.pruneUntagged();
  return report;
}
