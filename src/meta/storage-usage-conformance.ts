/**
 * ONE behavioural suite for every StorageUsageStore. The factory gives an empty database's meta
 * store (content goes in through it, as the registry's does) and the usage store over the same data.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { GcStore } from './gc.ts';
import type { MetaStore, NewManifest } from './store.ts';
import { usageNamespaceOf, type StorageUsageStore } from './storage-usage.ts';

export interface StorageUsageFixture {
  meta: MetaStore;
  usage: StorageUsageStore;
  /** Garbage collection's store over the same data: its marks remove a dangling blob's links. */
  gc: GcStore;
  /** Delete a repository's row, as SQL would (no store method does; its links go with it). */
  dropRepository: (name: string) => Promise<void>;
  /** Move every link of repository `from` to `to` with one SQL UPDATE (no store method does), touching created_at. */
  moveLinks: (from: string, to: string) => Promise<void>;
  cleanup: () => Promise<void>;
}

const d = (c: string) => `sha256:${c.repeat(64).slice(0, 64)}`;

function manifest(digest: string, blobs: string[]): NewManifest {
  const mediaType = 'application/vnd.oci.image.manifest.v1+json';
  return { digest, mediaType, size: 1000, artifactType: null, subject: null, annotations: null, createdAt: 1, blobs, children: [] };
}

/** Links as an older berth left them, for the migration that counts them (sqlite/migrations.test.ts and its PostgreSQL twin). */
export const LINKS_BEFORE_COUNTERS = {
  repositories: [[1, 'alice/a'], [2, 'alice/b/c'], [3, 'ubuntu'], [4, 'library/debian'], [5, 'alice0/x'], [6, 'bob/empty']] as const,
  // alice/a and alice/b/c share d('1'): once for alice; ubuntu links it too: once for library
  links: [[1, d('1'), 100], [2, d('1'), 100], [2, d('2'), 20], [3, d('1'), 100], [4, d('3'), 7], [5, d('4'), 5]] as const,
};

/** After the migration: the counters agree with usage()'s count from scratch, and count on from there. */
export async function assertCountedAfterMigration(usage: StorageUsageStore, meta: MetaStore): Promise<void> {
  const counted = await usage.usage();
  for (const ns of ['alice', 'library', 'alice0', 'bob', 'nobody']) {
    assert.equal(await usage.namespaceUsage(ns), counted.namespaces.find((n) => n.namespace === ns)?.bytes ?? 0, ns);
  }
  assert.deepEqual(await Promise.all(['alice', 'library', 'alice0', 'bob'].map((ns) => usage.namespaceUsage(ns))), [120, 107, 5, 0]);
  assert.equal(await usage.namespaceLinks('library', d('1')), true);
  assert.equal(await usage.namespaceLinks('alice', d('3')), false);
  await meta.unlinkBlob('alice/a', d('1'));
  assert.equal(await usage.namespaceUsage('alice'), 120, 'alice/b/c still links it');
  await meta.unlinkBlob('alice/b/c', d('1'));
  assert.equal(await usage.namespaceUsage('alice'), 20);
  await meta.linkBlob('bob/empty', { digest: d('5'), size: 3 });
  assert.equal(await usage.namespaceUsage('bob'), 3);
}

export function runStorageUsageConformance(name: string, make: () => Promise<StorageUsageFixture>): void {
  describe(`storage usage conformance: ${name}`, () => {
    let f: StorageUsageFixture;
    beforeEach(async () => {
      f = await make();
    });
    afterEach(async () => {
      await f.meta.close();
      await f.cleanup();
    });

    it('is empty for an empty registry', async () => {
      assert.deepEqual(await f.usage.usage(), { total: { bytes: 0, blobs: 0 }, namespaces: [] });
      assert.deepEqual(await f.usage.samples(0), []);
    });

    it('counts distinct blobs per namespace, and once in the total', async () => {
      // alice/a and alice/b share layer 1: once for alice; bob/c links it too: once more for bob, once in the total.
      await f.meta.linkBlob('alice/a', { digest: d('1'), size: 100 });
      await f.meta.linkBlob('alice/a', { digest: d('2'), size: 20 });
      await f.meta.linkBlob('alice/b', { digest: d('1'), size: 100 });
      await f.meta.putManifest('alice/b', manifest(d('m'), [d('1')]), 'latest');
      await f.meta.linkBlob('bob/c', { digest: d('1'), size: 100 });
      // One-component names and library/* are the same namespace; deeper names count under their first component.
      await f.meta.linkBlob('ubuntu', { digest: d('3'), size: 7 });
      await f.meta.linkBlob('library/debian', { digest: d('4'), size: 3 });
      await f.meta.linkBlob('acme/team/app', { digest: d('5'), size: 1 });
      const usage = await f.usage.usage();
      assert.deepEqual(usage.total, { bytes: 100 + 20 + 1000 + 7 + 3 + 1, blobs: 6 });
      assert.deepEqual(usage.namespaces, [
        { namespace: 'alice', bytes: 1120, repositories: 2 },
        { namespace: 'bob', bytes: 100, repositories: 1 },
        { namespace: 'library', bytes: 10, repositories: 2 },
        { namespace: 'acme', bytes: 1, repositories: 1 },
      ]);
      for (const repo of ['ubuntu', 'library/debian', 'acme/team/app']) {
        assert.ok(usage.namespaces.some((n) => n.namespace === usageNamespaceOf(repo)), `SQL and usageNamespaceOf agree on ${repo}`);
      }
    });

    it('namespaceUsage and namespaceLinks: one namespace as usage() counts it, and whether it links a blob', async () => {
      await f.meta.linkBlob('alice/a', { digest: d('1'), size: 100 });
      await f.meta.linkBlob('alice/b/c', { digest: d('1'), size: 100 });
      await f.meta.linkBlob('alice/b/c', { digest: d('2'), size: 20 });
      await f.meta.linkBlob('alice0/x', { digest: d('3'), size: 5 });
      await f.meta.linkBlob('alice-x/y', { digest: d('4'), size: 6 });
      await f.meta.linkBlob('ubuntu', { digest: d('5'), size: 7 });
      await f.meta.linkBlob('library/debian', { digest: d('6'), size: 3 });
      const usage = await f.usage.usage();
      for (const ns of ['alice', 'alice0', 'alice-x', 'library', 'nobody', 'alic']) {
        const expected = usage.namespaces.find((n) => n.namespace === ns)?.bytes ?? 0;
        assert.equal(await f.usage.namespaceUsage(ns), expected, ns);
      }
      assert.equal(await f.usage.namespaceUsage('alice'), 120);
      assert.equal(await f.usage.namespaceLinks('alice', d('2')), true);
      assert.equal(await f.usage.namespaceLinks('alice', d('3')), false, "alice0's blob is not alice's");
      assert.equal(await f.usage.namespaceLinks('alice', d('9')), false);
      assert.equal(await f.usage.namespaceLinks('library', d('5')), true);
      assert.equal(await f.usage.namespaceLinks('library', d('6')), true);
      await f.meta.unlinkBlob('alice/b/c', d('2'));
      assert.equal(await f.usage.namespaceUsage('alice'), 100);
      assert.equal(await f.usage.namespaceLinks('alice', d('2')), false);
    });

    it('namespaceUsage and namespaceLinks agree with a count from scratch through links added, shared and removed, manifests, GC marks and deleted repositories', async () => {
      const repos = ['alice/a', 'alice/b/c', 'alice0/x', 'bob/x', 'bob/y', 'ubuntu', 'library/debian'];
      const checked = [...repos, 'carol/moved'];
      const namespaces = [...new Set(checked.map(usageNamespaceOf)), 'nobody', 'alic'];
      const digest = (i: number) => `sha256:${String(i).padStart(64, '0')}`;
      const layers = Array.from({ length: 8 }, (_, i) => ({ digest: digest(i + 1), size: 10 ** (i % 4) + i }));
      const manifests = [100, 101, 102].map((i) => digest(i));
      const everything = [...layers.map((l) => l.digest), ...manifests];
      // usage() still counts from scratch (the SUM over repository_blobs); links from the meta store's own reads
      const agree = async (step: string): Promise<void> => {
        const usage = await f.usage.usage();
        const linked = new Set<string>();
        for (const repo of checked) {
          for (const dg of everything) if ((await f.meta.getRepositoryBlob(repo, dg)) !== undefined) linked.add(`${usageNamespaceOf(repo)} ${dg}`);
        }
        for (const ns of namespaces) {
          const expected = usage.namespaces.find((n) => n.namespace === ns)?.bytes ?? 0;
          assert.equal(await f.usage.namespaceUsage(ns), expected, `${step}: bytes of ${ns}`);
          for (const dg of everything) assert.equal(await f.usage.namespaceLinks(ns, dg), linked.has(`${ns} ${dg}`), `${step}: ${ns} links ${dg}`);
        }
      };
      const collect = async (): Promise<string[]> => {
        const rules = { now: Date.now() + 24 * 3600_000, graceMs: 0, untagged: 'keep' as const };
        const marked: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await f.gc.markBlobs(cursor, 100, rules, 60_000, false);
          marked.push(...page.dangling.map((b) => b.digest));
          cursor = page.next;
        } while (cursor !== undefined);
        await f.gc.finishBlobs(marked); // their bytes deleted, as a run ends
        return marked;
      };
      // A blob linked in three namespaces and referenced by no manifest: garbage collection marks it and removes
      // every link; a layer of a manifest beside it stays.
      const dangling = { digest: digest(200), size: 5000 };
      for (const repo of ['alice/a', 'bob/y', 'ubuntu']) await f.meta.linkBlob(repo, dangling);
      await f.meta.linkBlob('alice/a', { digest: digest(201), size: 3 });
      await f.meta.putManifest('alice/a', manifest(digest(202), [digest(201)]), 'latest');
      await agree('dangling blob linked');
      assert.deepEqual(await Promise.all(['alice', 'bob', 'library'].map((ns) => f.usage.namespaceUsage(ns))), [5000 + 3 + 1000, 5000, 5000]);
      assert.deepEqual(await collect(), [dangling.digest]);
      assert.deepEqual(await Promise.all(['alice', 'bob', 'library'].map((ns) => f.usage.namespaceUsage(ns))), [3 + 1000, 0, 0], 'its bytes leave each namespace');
      assert.equal(await f.usage.namespaceLinks('bob', dangling.digest), false);
      await agree('after garbage collection');
      await f.meta.linkBlob('bob/x', dangling);
      assert.equal(await f.usage.namespaceUsage('bob'), 5000, 'the collected blob pushed again counts again');
      await f.meta.deleteManifest('alice/a', digest(202));

      let seed = 7;
      const pick = <T>(xs: readonly T[]): T => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return xs[(seed >>> 8) % xs.length] as T;
      };
      for (let step = 0; step < 60; step++) {
        const repo = pick(repos);
        const layer = pick(layers);
        const op = pick(['link', 'link', 'unlink', 'existing', 'manifest', 'delete'] as const);
        if (op === 'link') await f.meta.linkBlob(repo, layer);
        else if (op === 'unlink') await f.meta.unlinkBlob(repo, layer.digest);
        else if (op === 'existing') await f.meta.linkExisting(repo, layer.digest);
        else if (op === 'manifest') await f.meta.putManifest(repo, manifest(pick(manifests), [layer.digest]), pick(['latest', 'v1']));
        else await f.meta.deleteManifest(repo, pick(manifests));
        await agree(`step ${step}: ${op} ${repo} ${layer.digest.slice(-2)}`);
      }
      await collect();
      await agree('after the second collection');

      // A repository's row deleted: its links go, and the namespace counts only what its other repositories link.
      await f.meta.linkBlob('alice/a', { digest: digest(300), size: 70 });
      await f.meta.linkBlob('alice/b/c', { digest: digest(300), size: 70 });
      await f.meta.linkBlob('alice/a', { digest: digest(301), size: 9 });
      const alice = await f.usage.namespaceUsage('alice');
      await f.dropRepository('alice/a');
      assert.equal(await f.meta.getRepositoryBlob('alice/a', digest(301)), undefined);
      assert.ok((await f.usage.namespaceUsage('alice')) <= alice - 9, 'the deleted repository no longer counts');
      assert.equal(await f.usage.namespaceLinks('alice', digest(300)), true, 'alice/b/c still links it');
      assert.equal(await f.usage.namespaceLinks('alice', digest(301)), false);
      await agree('repository deleted');

      // Links moved to another namespace's repository by an UPDATE: they leave the one and count in the other.
      await f.meta.linkBlob('carol/moved', { digest: digest(400), size: 4 });
      await f.meta.linkBlob('bob/y', { digest: digest(401), size: 11 });
      await f.moveLinks('bob/y', 'carol/moved');
      assert.equal(await f.usage.namespaceLinks('carol', digest(401)), true);
      assert.equal(await f.usage.namespaceLinks('bob', digest(401)), false);
      await agree('links moved');
    });

    it('stops counting a blob once it is unlinked everywhere', async () => {
      await f.meta.linkBlob('alice/a', { digest: d('1'), size: 100 });
      await f.meta.linkBlob('bob/b', { digest: d('1'), size: 100 });
      await f.meta.unlinkBlob('alice/a', d('1'));
      assert.deepEqual(await f.usage.usage(), { total: { bytes: 100, blobs: 1 }, namespaces: [{ namespace: 'bob', bytes: 100, repositories: 1 }] });
      await f.meta.unlinkBlob('bob/b', d('1'));
      assert.deepEqual(await f.usage.usage(), { total: { bytes: 0, blobs: 0 }, namespaces: [] });
    });

    it('records samples, replaces one taken at the same time, lists them since a time, and prunes old ones', async () => {
      await f.usage.recordSample({ at: 1000, total: 10, namespaces: { alice: 6, bob: 4 } });
      await f.usage.recordSample({ at: 2000, total: 12, namespaces: { alice: 12 } });
      await f.usage.recordSample({ at: 3000, total: 1, namespaces: {} });
      await f.usage.recordSample({ at: 3000, total: 0, namespaces: { carol: 0 } });
      assert.deepEqual(await f.usage.samples(0), [
        { at: 1000, total: 10, namespaces: { alice: 6, bob: 4 } },
        { at: 2000, total: 12, namespaces: { alice: 12 } },
        { at: 3000, total: 0, namespaces: { carol: 0 } },
      ]);
      assert.deepEqual((await f.usage.samples(2000)).map((s) => s.at), [2000, 3000]);
      await f.usage.pruneSamples(3000);
      assert.deepEqual((await f.usage.samples(0)).map((s) => s.at), [3000]);
    });
  });
}
