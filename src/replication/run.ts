/**
 * One run of a replication rule: from one end to the other (sides.ts), every repository and tag
 * the rule's filters take, each tag copied by the copy engine unless the destination has it
 * already (the same digest), then (with `deletes`) the destination's tags that the source no
 * longer has removed. A tag that fails is recorded with its reason and the run goes on; the run
 * ends `succeeded`, `partial` (some failed) or `failed` (nothing could be listed, or all failed).
 */
import { copyImage } from '../copy/engine.ts';
import { Limiter } from '../copy/limiter.ts';
import { narrowIndex, parsePlatform } from '../copy/platforms.ts';
import { RateLimit } from '../copy/rate.ts';
import type { ImageSource } from '../copy/transport.ts';
import type { ReplicationRule } from '../config/replication-schema.ts';
import { globMatches } from '../registry/glob.ts';
import { EMPTY_COUNTS, MAX_FAILURES, type RunCounts, type RunFailure, type RunStatus } from './model.ts';
import type { Side } from './sides.ts';

export interface RunPlan {
  rule: ReplicationRule;
  /** Where images come from and go to: remote -> local for pull rules, local -> remote for push. */
  from: Side;
  to: Side;
  /**
   * Only this repository (named as here), or only this repository:tag: the runs of a push rule
   * that follow a push or a delete here. A tag gone from the source is then deleted at the
   * destination too (with `deletes`).
   */
  only?: { repository: string; tag?: string | undefined };
  /** Told after each tag (progress, leases); a rejection stops the run. */
  progress?: (counts: RunCounts, failures: RunFailure[]) => Promise<void>;
  signal?: AbortSignal;
}

export interface RunOutcome {
  status: Exclude<RunStatus, 'running'>;
  counts: RunCounts;
  failures: RunFailure[];
}

const WILDCARD = /[*?]/;

/** A local repository's name at the remote (remoteprefix), and back (undefined: not under it). */
export function remoteName(rule: ReplicationRule, local: string): string {
  return rule.remoteprefix === undefined ? local : `${rule.remoteprefix}/${local}`;
}

export function localName(rule: ReplicationRule, remote: string): string | undefined {
  if (rule.remoteprefix === undefined) return remote;
  return remote.startsWith(`${rule.remoteprefix}/`) ? remote.slice(rule.remoteprefix.length + 1) : undefined;
}

const matchesAny = (patterns: readonly string[], text: string): boolean => patterns.some((p) => globMatches(p, text));

export async function runRule(plan: RunPlan): Promise<RunOutcome> {
  const { rule, from, to, signal } = plan;
  const pull = rule.direction === 'pull';
  const counts: RunCounts = { ...EMPTY_COUNTS };
  const failures: RunFailure[] = [];
  const fail = (what: string, err: unknown): void => {
    counts.failed++;
    if (failures.length < MAX_FAILURES) failures.push({ what, reason: (err instanceof Error ? err.message : String(err)).slice(0, 1000) });
  };
  // names on each side: the rule's filters speak of local names
  const fromName = (local: string): string => (pull ? remoteName(rule, local) : local);
  const toName = (local: string): string => (pull ? local : remoteName(rule, local));

  let repositories: string[];
  if (plan.only !== undefined) {
    repositories = matchesAny(rule.filters.repositories, plan.only.repository) ? [plan.only.repository] : [];
  } else if (rule.filters.repositories.every((p) => !WILDCARD.test(p))) {
    // Names, not patterns: no catalog needed (Docker Hub has none).
    repositories = [...rule.filters.repositories];
  } else {
    try {
      const listed = await from.repositories();
      repositories = listed.map((n) => (pull ? localName(rule, n) : n)).filter((n): n is string => n !== undefined && matchesAny(rule.filters.repositories, n));
    } catch (err) {
      fail(`${from.description} catalog`, err);
      return { status: 'failed', counts, failures };
    }
  }

  const platforms = rule.filters.platforms?.map(parsePlatform);
  const limiter = new Limiter(rule.concurrency);
  // one limit for the whole run: every image and blob of it together
  const rate = rule.bandwidth === undefined ? undefined : new RateLimit(rule.bandwidth);
  let listedAny = false;
  const tell = async (): Promise<void> => plan.progress?.({ ...counts }, [...failures]);
  for (const repository of repositories) {
    signal?.throwIfAborted();
    let tags: string[];
    try {
      tags = plan.only?.tag !== undefined ? [plan.only.tag] : await from.tags(fromName(repository));
      listedAny = true;
    } catch (err) {
      fail(repository, err);
      continue;
    }
    const wanted = tags.filter((t) => matchesAny(rule.filters.tags, t));
    await Promise.all(
      wanted.map((tag) =>
        limiter.run(async () => {
          signal?.throwIfAborted();
          const what = `${repository}:${tag}`;
          try {
            let source: ImageSource | undefined;
            let have = await from.digest(fromName(repository), tag);
            if (have !== undefined && platforms !== undefined) {
              // an index narrowed to the rule's platforms: the destination has that, not the source's index
              source = await from.source(fromName(repository), tag);
              const narrowed = narrowIndex(await source.manifest(), platforms);
              if (narrowed === undefined) {
                counts.skipped++;
                return;
              }
              have = narrowed.digest;
            }
            if (have === undefined) {
              // deleted here (a run after a delete): deleted there too, with `deletes`
              if (plan.only?.tag !== undefined && rule.deletes && (await to.digest(toName(repository), tag)) !== undefined) {
                await to.deleteTag(toName(repository), tag);
                counts.deleted++;
              }
              // else gone since the listing (or a push of a tag deleted meanwhile)
              return;
            }
            if ((await to.digest(toName(repository), tag)) === have) {
              counts.skipped++;
              return;
            }
            const result = await copyImage(source ?? (await from.source(fromName(repository), tag)), await to.destination(toName(repository)), {
              all: true,
              ...(platforms !== undefined && { platforms }),
              tag,
              parallel: rule.parallel,
              ...(rate !== undefined && { rate }),
              ...(signal !== undefined && { signal }),
            });
            counts.copied++;
            counts.bytes += result.bytes;
          } catch (err) {
            if (signal?.aborted === true) throw err;
            fail(what, err);
          } finally {
            await tell();
          }
        }),
      ),
    );
    if (rule.deletes && plan.only?.tag === undefined) {
      let theirs: string[] = [];
      try {
        theirs = await to.tags(toName(repository));
      } catch (err) {
        fail(`${repository} (deletes)`, err);
      }
      const keep = new Set(tags);
      for (const tag of theirs.filter((t) => matchesAny(rule.filters.tags, t) && !keep.has(t))) {
        try {
          await to.deleteTag(toName(repository), tag);
          counts.deleted++;
        } catch (err) {
          fail(`${repository}:${tag} (delete)`, err);
        }
        await tell();
      }
    }
  }
  const status: RunOutcome['status'] =
    counts.failed === 0 ? 'succeeded' : !listedAny && repositories.length > 0 ? 'failed' : counts.copied + counts.skipped + counts.deleted > 0 ? 'partial' : 'failed';
  return { status, counts, failures };
}
