/**
 * applyRetention against fakes of the served store: what it deletes and through which call, the
 * dry run that deletes nothing, and the checks right before each delete (a tag moved or a manifest
 * tagged since the plan is kept and reported; one gone meanwhile is no error; a refused delete is
 * reported and the run goes on).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ManifestRecord } from '../meta/store.ts';
import type { TagActivity, TagActivityStore, UntaggedManifest } from '../meta/tag-activity.ts';
import { ManifestUnknownError } from '../registry/errors.ts';
import { applyRetention } from './apply.ts';

const NOW = Date.UTC(2026, 11, 1);
const DAY = 86_400_000;
const dg = (c: string) => `sha256:${c.repeat(64)}`;

function record(digest: string): ManifestRecord {
  return { digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 1, artifactType: null, subject: null, annotations: null, createdAt: 0 };
}

function fixture() {
  const tags: TagActivity[] = ['a', 'b', 'c', 'd', 'e', 'keep'].map((t, i) => ({ tag: t, digest: dg(String(i + 1)), pushedAt: NOW - (10 - i) * DAY, pulledAt: null }));
  const untagged: UntaggedManifest[] = [dg('u'), dg('v')].map((digest) => ({ digest, mediaType: 'x', size: 1, createdAt: NOW - 30 * DAY, untaggedAt: NOW - 30 * DAY }));
  const deleted: string[] = [];
  let pruned = 0;
  const store: TagActivityStore = {
    recordPulls: async () => undefined,
    tagActivity: async () => tags,
    untaggedManifests: async () => untagged,
    pruneUntagged: async () => ++pruned,
  };
  const registry = {
    meta: {
      listRepositories: async () => ['acme/app'],
      // b moved to another manifest since the plan; c is gone
      resolveTag: async (_repo: string, tag: string) => (tag === 'b' ? record(dg('9')) : tag === 'c' ? undefined : record(tags.find((t) => t.tag === tag)?.digest ?? '')),
      // v was tagged since the plan
      tagsOf: async (_repo: string, digest: string) => (digest === dg('v') ? ['new'] : []),
    },
    manifests: {
      delete: async (repo: string, reference: string) => {
        if (reference === 'd') throw new Error('tag "d" of acme/app is immutable');
        if (reference === 'e') throw new ManifestUnknownError('e');
        deleted.push(`${repo}:${reference}`);
      },
    },
  };
  const policies = [{ repository: 'acme/*', keep: { tags: ['^keep$'] }, delete: { untaggedafter: 7 * DAY } }];
  return { registry, store, policies, deleted, pruned: () => pruned };
}

describe('applyRetention', () => {
  it('deletes through the served store after checking each tag and manifest still is as planned', async () => {
    const f = fixture();
    const report = await applyRetention({ registry: f.registry, store: f.store, policies: f.policies, now: NOW, dryRun: false });
    assert.deepEqual(f.deleted, ['acme/app:a', `acme/app:${dg('u')}`]);
    const [repo] = report.repositories;
    assert.deepEqual(repo?.deletedTags, ['a']);
    assert.deepEqual(repo?.deletedManifests, [dg('u')]);
    assert.deepEqual(repo?.errors, [`b: moved to ${dg('9')} since the plan; kept`, 'd: tag "d" of acme/app is immutable', `${dg('v')}: tagged since the plan; kept`]);
    assert.deepEqual([report.deleted, report.errors], [{ tags: 1, manifests: 1 }, 3]);
    assert.equal(f.pruned(), 1, 'records of deleted manifests pruned once per run');
  });

  it('a dry run deletes nothing and reports every planned delete', async () => {
    const f = fixture();
    const report = await applyRetention({ registry: f.registry, store: f.store, policies: f.policies, now: NOW, dryRun: true });
    assert.deepEqual(f.deleted, []);
    assert.deepEqual(report.repositories[0]?.deletedTags, ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(report.repositories[0]?.deletedManifests, [dg('u'), dg('v')]);
    assert.equal(f.pruned(), 0);
  });
});
