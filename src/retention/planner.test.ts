/**
 * The planner, rule by rule and combined, on an injected clock: which tags a policy keeps and
 * deletes, and the rule and reason it gives for each.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TagActivity, UntaggedManifest } from '../meta/tag-activity.ts';
import { decideTags, planRetention, type PlanSource } from './planner.ts';
import type { RetentionPolicy } from './policy.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 1);

function tag(name: string, pushedDaysAgo: number, pulledDaysAgo: number | null = null): TagActivity {
  return { tag: name, digest: `sha256:${name.padEnd(64, '0').slice(0, 64)}`, pushedAt: NOW - pushedDaysAgo * DAY, pulledAt: pulledDaysAgo === null ? null : NOW - pulledDaysAgo * DAY };
}

function policy(p: { newest?: number; tags?: string[]; notpulledfor?: number; untaggedafter?: number }, repository = 'acme/*'): RetentionPolicy {
  return {
    repository,
    keep: { ...(p.newest !== undefined && { newest: p.newest }), tags: p.tags ?? [] },
    delete: { ...(p.notpulledfor !== undefined && { notpulledfor: p.notpulledfor * DAY }), ...(p.untaggedafter !== undefined && { untaggedafter: p.untaggedafter * DAY }) },
  };
}

/** tag -> action:rule, for compact assertions. */
function outcome(decisions: ReturnType<typeof decideTags>): Record<string, string> {
  return Object.fromEntries(decisions.map((d) => [d.tag, `${d.action}:${d.rule}`]));
}

const TAGS = [tag('v1.0', 100), tag('v1.1', 50), tag('latest', 1), tag('dev-a', 30), tag('dev-b', 20)];

describe('retention planner', () => {
  it('a policy without a tag rule keeps every tag', () => {
    assert.deepEqual(outcome(decideTags(policy({ untaggedafter: 7 }), TAGS, NOW)), {
      'dev-a': 'keep:none', 'dev-b': 'keep:none', latest: 'keep:none', 'v1.0': 'keep:none', 'v1.1': 'keep:none',
    });
  });

  it('keep.newest keeps the N pushed last and deletes the rest', () => {
    const d = decideTags(policy({ newest: 2 }), TAGS, NOW);
    assert.deepEqual(outcome(d), {
      'dev-a': 'delete:unkept', 'dev-b': 'keep:keep.newest', latest: 'keep:keep.newest', 'v1.0': 'delete:unkept', 'v1.1': 'delete:unkept',
    });
    assert.equal(d.find((t) => t.tag === 'latest')?.reason, 'newest 1 of 5 (keep.newest: 2)');
    assert.equal(d.find((t) => t.tag === 'v1.0')?.reason, 'not among the newest 2');
  });

  it('keep.newest: equal push times are ordered by name, the later name counting as newer', () => {
    const same = [tag('a', 5), tag('c', 5), tag('b', 5)];
    assert.deepEqual(outcome(decideTags(policy({ newest: 1 }), same, NOW)), { a: 'delete:unkept', b: 'delete:unkept', c: 'keep:keep.newest' });
    assert.deepEqual(outcome(decideTags(policy({ newest: 2 }), same, NOW)), { a: 'delete:unkept', b: 'keep:keep.newest', c: 'keep:keep.newest' });
  });

  it('keep.tags keeps tags matching any pattern (unanchored) and deletes the rest', () => {
    const d = decideTags(policy({ tags: ['^v[0-9]', 'stable'] }), [...TAGS, tag('x-stable', 3)], NOW);
    assert.deepEqual(outcome(d), {
      'dev-a': 'delete:unkept', 'dev-b': 'delete:unkept', latest: 'delete:unkept', 'x-stable': 'keep:keep.tags', 'v1.0': 'keep:keep.tags', 'v1.1': 'keep:keep.tags',
    });
    assert.equal(d.find((t) => t.tag === 'v1.0')?.reason, 'matches "^v[0-9]" (keep.tags)');
    assert.equal(d.find((t) => t.tag === 'latest')?.reason, 'matches no keep.tags pattern');
  });

  it('delete.notpulledfor alone deletes tags neither pulled nor pushed within the age; never pulled counts from the push', () => {
    const tags = [tag('old-pulled', 200, 10), tag('old-stale', 200, 120), tag('old-never', 100), tag('young-never', 20), tag('repushed', 5, 300)];
    const d = decideTags(policy({ notpulledfor: 90 }), tags, NOW);
    assert.deepEqual(outcome(d), {
      'old-never': 'delete:delete.notpulledfor',
      'old-pulled': 'keep:delete.notpulledfor',
      'old-stale': 'delete:delete.notpulledfor',
      repushed: 'keep:delete.notpulledfor',
      'young-never': 'keep:delete.notpulledfor',
    });
    assert.match(d.find((t) => t.tag === 'old-stale')?.reason ?? '', /^last pulled 120 days ago \(2026-08-03\); delete.notpulledfor: 90d$/);
    assert.match(d.find((t) => t.tag === 'old-never')?.reason ?? '', /^not pulled since its push 100 days ago/);
  });

  it('the age boundary: exactly notpulledfor ago is deleted, a millisecond less is kept', () => {
    const exact = { ...tag('exact', 0), pushedAt: NOW - 90 * DAY };
    const less = { ...tag('less', 0), pushedAt: NOW - 90 * DAY + 1 };
    assert.deepEqual(outcome(decideTags(policy({ notpulledfor: 90 }), [exact, less], NOW)), { exact: 'delete:delete.notpulledfor', less: 'keep:delete.notpulledfor' });
  });

  it('combined: a tag is kept if ANY keep rule keeps it; the rest go only when stale', () => {
    const tags = [tag('v1.0', 300), tag('v2.0', 200), tag('nightly-1', 150, 100), tag('nightly-2', 120, 5), tag('nightly-3', 95), tag('latest', 2), tag('pr-9', 1)];
    const d = decideTags(policy({ newest: 2, tags: ['^v'], notpulledfor: 90 }), tags, NOW);
    assert.deepEqual(outcome(d), {
      latest: 'keep:keep.newest',
      'nightly-1': 'delete:delete.notpulledfor',
      'nightly-2': 'keep:delete.notpulledfor',
      'nightly-3': 'delete:delete.notpulledfor',
      'pr-9': 'keep:keep.newest',
      'v1.0': 'keep:keep.tags',
      'v2.0': 'keep:keep.tags',
    });
  });

  it('a tag the policy would delete that something holds (an immutable rule) is kept, saying both', async () => {
    const store: PlanSource = { tagActivity: async () => [tag('old', 9), tag('older', 10), tag('new', 1)], untaggedManifests: async () => [] };
    const asked: string[][] = [];
    const held = async (_repo: string, tags: readonly string[]) => {
      asked.push([...tags]);
      return new Map([['older', 'immutable (rule "acme/*": old*)']]);
    };
    const plan = await planRetention({ meta: { listRepositories: async () => ['acme/app'] }, store, policies: [policy({ newest: 1 })], now: NOW, held });
    assert.deepEqual(asked, [['old', 'older']], 'only the tags it would delete are asked about');
    const tags = plan.repositories[0]?.tags ?? [];
    assert.deepEqual(outcome(tags), { new: 'keep:keep.newest', old: 'delete:unkept', older: 'keep:immutable' });
    assert.equal(tags.find((t) => t.tag === 'older')?.reason, 'immutable (rule "acme/*": old*); the policy would delete it: not among the newest 1');
  });

  it('a keep pattern that explodes under backtracking decides like any other', async () => {
    const evil = [tag(`${'a'.repeat(120)}!`, 500), tag('a'.repeat(120), 400)];
    const store: PlanSource = { tagActivity: async () => evil, untaggedManifests: async () => [] };
    const plan = await planRetention({ meta: { listRepositories: async () => ['acme/app'] }, store, policies: [policy({ tags: ['^(a+)+$'] })], now: NOW });
    assert.equal(plan.repositories[0]?.error, undefined);
    assert.deepEqual(outcome(plan.repositories[0]?.tags ?? []), { [`${'a'.repeat(120)}!`]: 'delete:unkept', ['a'.repeat(120)]: 'keep:keep.tags' });
  });

  it('a keep pattern RE2 cannot compile (the config and the API refuse it) decides nothing: every tag is kept, with the reason', async () => {
    const store: PlanSource = { tagActivity: async () => [tag('aa', 5), tag('ab', 5)], untaggedManifests: async () => [] };
    const plan = await planRetention({ meta: { listRepositories: async () => ['acme/app'] }, store, policies: [policy({ tags: ['(a)\\1'] })], now: NOW });
    assert.deepEqual(outcome(plan.repositories[0]?.tags ?? []), { aa: 'keep:none', ab: 'keep:none' });
    assert.match(plan.repositories[0]?.error ?? '', /the keep pattern "\(a\)\\\\1" cannot be matched: .*invalid escape sequence/);
  });

  it('plans every repository a policy covers with its most specific policy; untagged manifests past the age', async () => {
    const untagged: UntaggedManifest[] = [
      { digest: 'sha256:u', mediaType: 'x', size: 1, createdAt: NOW - 10 * DAY, untaggedAt: NOW - 10 * DAY },
      { digest: 'sha256:v', mediaType: 'x', size: 1, createdAt: NOW - 30 * DAY, untaggedAt: NOW - 8 * DAY },
    ];
    const asked: [string, number][] = [];
    const store: PlanSource = {
      tagActivity: async (repo) => (repo === 'acme/app' ? [tag('a', 1), tag('b', 2)] : [tag('c', 1)]),
      untaggedManifests: async (repo, before) => {
        asked.push([repo, before]);
        return untagged;
      },
    };
    const pages: string[][] = [['acme/app', 'acme/web', 'bob/x']];
    const meta = { listRepositories: async () => pages.shift() ?? [] };
    const plan = await planRetention({ meta, store, policies: [policy({ newest: 1 }), policy({ untaggedafter: 7 }, 'acme/web')], now: NOW });
    assert.deepEqual(plan.repositories.map((r) => [r.repository, r.policy]), [['acme/app', 'acme/*'], ['acme/web', 'acme/web']]);
    assert.deepEqual(outcome(plan.repositories[0]?.tags ?? []), { a: 'keep:keep.newest', b: 'delete:unkept' });
    assert.deepEqual(plan.repositories[0]?.untagged, []);
    assert.deepEqual(asked, [['acme/web', NOW - 7 * DAY]]);
    assert.equal(plan.repositories[1]?.untagged[0]?.reason, 'untagged since its push 10 days ago (2026-11-21); delete.untaggedafter: 7d');
    assert.equal(plan.repositories[1]?.untagged[1]?.reason, 'untagged 8 days ago (2026-11-23); delete.untaggedafter: 7d');
  });
});
