/**
 * ONE behavioural suite for every TagActivityStore. The factory gives an empty database's meta
 * store (content goes in through it, as the registry's does) and the tag activity store over the same data.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { MetaStore, NewManifest } from './store.ts';
import type { TagActivityStore } from './tag-activity.ts';

export interface TagActivityFixture {
  meta: MetaStore;
  activity: TagActivityStore;
  cleanup: () => Promise<void>;
}

const d = (c: string) => `sha256:${c.repeat(64).slice(0, 64)}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

function manifest(digest: string, createdAt: number, extra: Partial<NewManifest> = {}): NewManifest {
  return { digest, mediaType: OCI_MANIFEST, size: 100, artifactType: null, subject: null, annotations: null, createdAt, blobs: [], children: [], ...extra };
}

export function runTagActivityConformance(name: string, make: () => Promise<TagActivityFixture>): void {
  describe(`tag activity conformance: ${name}`, () => {
    let f: TagActivityFixture;
    beforeEach(async () => {
      f = await make();
    });
    afterEach(async () => {
      await f.meta.close();
      await f.cleanup();
    });

    async function put(repo: string, m: NewManifest, tag?: string): Promise<void> {
      await f.meta.linkBlob(repo, { digest: m.digest, size: m.size });
      await f.meta.putManifest(repo, m, tag);
    }

    it('lists every tag with its manifest, push time and no pull yet; [] for an unknown repository', async () => {
      await put('acme/app', manifest(d('1'), 1000), 'v1');
      await put('acme/app', manifest(d('2'), 2000), 'latest');
      const tags = await f.activity.tagActivity('acme/app');
      assert.deepEqual(tags.map((t) => [t.tag, t.digest, t.pulledAt]), [['latest', d('2'), null], ['v1', d('1'), null]]);
      assert.ok(tags.every((t) => t.pushedAt > 0));
      assert.deepEqual(await f.activity.tagActivity('nobody/here'), []);
    });

    it('stamps a pull by tag on that tag, and by digest on every tag of the digest; never back in time', async () => {
      await put('acme/app', manifest(d('1'), 1000), 'v1');
      await f.meta.putManifest('acme/app', manifest(d('1'), 1000), 'stable');
      await put('acme/app', manifest(d('2'), 2000), 'latest');
      await put('acme/other', manifest(d('1'), 1000), 'v1');
      await f.activity.recordPulls([{ repository: 'acme/app', reference: 'latest', at: 5000 }]);
      await f.activity.recordPulls([
        { repository: 'acme/app', reference: d('1'), at: 6000 },
        { repository: 'acme/app', reference: 'latest', at: 4000 },
        { repository: 'acme/app', reference: 'gone', at: 9000 },
        { repository: 'nobody/here', reference: 'x', at: 9000 },
      ]);
      const pulled = Object.fromEntries((await f.activity.tagActivity('acme/app')).map((t) => [t.tag, t.pulledAt]));
      assert.deepEqual(pulled, { latest: 5000, stable: 6000, v1: 6000 });
      assert.equal((await f.activity.tagActivity('acme/other'))[0]?.pulledAt, null, 'another repository holding the digest is not stamped');
      await f.activity.recordPulls([]);
    });

    it('a batch naming the same tag twice keeps the later time', async () => {
      await put('acme/app', manifest(d('1'), 1000), 'v1');
      await f.activity.recordPulls([
        { repository: 'acme/app', reference: 'v1', at: 7000 },
        { repository: 'acme/app', reference: d('1'), at: 8000 },
        { repository: 'acme/app', reference: 'v1', at: 6000 },
      ]);
      assert.equal((await f.activity.tagActivity('acme/app'))[0]?.pulledAt, 8000);
    });

    it('untagged manifests: older than the time, not an index child, not a referrer of a present subject', async () => {
      await put('acme/app', manifest(d('a'), 1000), 'v1');
      await put('acme/app', manifest(d('b'), 1000)); // untagged, old: a candidate
      await put('acme/app', manifest(d('c'), 9000)); // untagged, young
      await put('acme/app', manifest(d('d'), 1000)); // child of the index
      await put('acme/app', manifest(d('i'), 1000, { mediaType: OCI_INDEX, children: [d('d')] }), 'multi');
      await put('acme/app', manifest(d('s'), 1000, { subject: d('a') })); // referrer of a tagged subject
      await put('acme/app', manifest(d('o'), 1500, { subject: d('f') })); // referrer whose subject is not here: a candidate
      const untagged = await f.activity.untaggedManifests('acme/app', 5000);
      assert.deepEqual(untagged.map((m) => m.digest), [d('b'), d('o')]);
      assert.deepEqual(untagged[0], { digest: d('b'), mediaType: OCI_MANIFEST, size: 100, createdAt: 1000, untaggedAt: 1000 });
      assert.deepEqual(await f.activity.untaggedManifests('acme/app', 1000), [], 'strictly before the time');
    });

    it('counts an untagged manifest from when it lost its last tag (the database clock), not from its push', async () => {
      await put('acme/app', manifest(d('a'), 1000), 'v1');
      await f.meta.putManifest('acme/app', manifest(d('a'), 1000), 'stable');
      await put('acme/app', manifest(d('b'), 2000));
      const before = Date.now();
      // The tag moves away from a, which keeps another; then that one is deleted: a is untagged from then.
      await f.meta.putManifest('acme/app', manifest(d('b'), 2000), 'v1');
      assert.deepEqual((await f.activity.untaggedManifests('acme/app', 5000)).map((m) => m.digest), []);
      await f.meta.deleteTag('acme/app', 'stable');
      const after = Date.now();
      assert.deepEqual(await f.activity.untaggedManifests('acme/app', 5000), [], 'pushed long ago, untagged just now');
      const [a, ...rest] = await f.activity.untaggedManifests('acme/app', after + 1000);
      assert.deepEqual(rest, []);
      assert.equal(a?.digest, d('a'));
      assert.ok(a !== undefined && a.untaggedAt >= before - 1000 && a.untaggedAt <= after + 1000, `untaggedAt ${a?.untaggedAt}`);
      assert.equal(a?.createdAt, 1000);
      // Tagged again, it is no candidate; deleted, its record goes at the next prune.
      await f.meta.putManifest('acme/app', manifest(d('a'), 1000), 'again');
      assert.deepEqual(await f.activity.untaggedManifests('acme/app', after + 1000), []);
      await f.meta.deleteManifest('acme/app', d('a'));
      assert.equal(await f.activity.pruneUntagged(), 1);
      assert.equal(await f.activity.pruneUntagged(), 0);
    });
  });
}
