/**
 * ONE behavioural suite for every SearchIndex (SQLite FTS5 now, PostgreSQL later). The factory gives
 * an empty database's meta store (pushes and deletes go through it, as the registry's do: the index
 * must follow them in the same transaction) recording times from the clock it is given, its account
 * store (visibility) and the index.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { MetaStore, NewManifest } from '../meta/store.ts';
import type { AccountStore } from '../auth/store.ts';
import { SEE_EVERYTHING, namespaceOf, type AccessFilter, type SearchIndex, type SearchQuery } from './model.ts';

export interface SearchFixture {
  meta: MetaStore;
  accounts: AccountStore;
  index: SearchIndex;
  cleanup: () => Promise<void>;
}

let counter = 0;
function manifest(): NewManifest {
  const hex = (++counter).toString(16).padStart(64, '0');
  return { digest: `sha256:${hex}`, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 10, artifactType: null, subject: null, annotations: null, createdAt: Date.now(), blobs: [], children: [] };
}

const ANONYMOUS_FILTER: Extract<AccessFilter, { all: false }> = { all: false, defaultPublic: false, namespaces: [], repositories: [] };

export function runSearchIndexConformance(name: string, make: (now: () => number) => Promise<SearchFixture>): void {
  describe(`search index conformance: ${name}`, () => {
    let f: SearchFixture;
    /** The meta store's clock: the real one, unless a test sets the time. */
    let time: number | undefined;
    const push = async (repo: string, visibility: 'public' | 'private' = 'public') => {
      await f.accounts.claimRepository(repo, namespaceOf(repo), visibility);
      const m = manifest();
      await f.meta.putManifest(repo, m, 'latest');
      return m.digest;
    };
    const names = async (q: Partial<SearchQuery>) =>
      (await f.index.search({ text: '', access: SEE_EVERYTHING, sort: 'relevance', offset: 0, limit: 100, ...q })).hits.map((h) => h.name);

    beforeEach(async () => {
      time = undefined;
      f = await make(() => time ?? Date.now());
    });
    afterEach(async () => {
      await f.meta.close();
      await f.cleanup();
    });

    it('finds a repository as soon as it is pushed, and forgets it when its last manifest goes', async () => {
      assert.deepEqual(await names({ text: 'nginx' }), []);
      const digest = await push('alice/nginx');
      assert.deepEqual(await names({ text: 'nginx' }), ['alice/nginx']);
      await f.meta.deleteManifest('alice/nginx', digest);
      assert.deepEqual(await names({ text: 'nginx' }), []);
      assert.equal(await f.index.details('alice/nginx'), undefined);
    });

    it("says when a repository last changed as the meta store does: pushes, tag moves, tag and manifest deletes", async () => {
      const updated = async () => {
        const times = await f.meta.repositoryTimes('alice/app');
        const hit = (await f.index.search({ text: 'app', access: SEE_EVERYTHING, sort: 'updated', offset: 0, limit: 10 })).hits[0];
        const details = await f.index.details('alice/app');
        assert.equal(hit?.updatedAt, times?.updatedAt, 'a search hit and the meta store');
        assert.equal(details?.updatedAt, times?.updatedAt, 'the details and the meta store');
        return times?.updatedAt;
      };
      time = 1000;
      const first = await push('alice/app');
      assert.equal(await updated(), 1000);
      time = 2000;
      const second = manifest();
      await f.meta.putManifest('alice/app', second, 'v2');
      assert.equal(await updated(), 2000, 'a push');
      time = 3000;
      await f.meta.putManifest('alice/app', second, 'latest');
      assert.equal(await updated(), 3000, 'a tag moved');
      time = 4000;
      await f.meta.deleteTag('alice/app', 'v2');
      assert.equal(await updated(), 4000, 'a tag deleted');
      time = 5000;
      await f.meta.deleteManifest('alice/app', first);
      assert.equal(await updated(), 5000, 'a manifest deleted');
    });

    it('ranks exact names, then prefixes, then words, then stars and pulls', async () => {
      for (const n of ['bob/nginx-proxy', 'nginx', 'carol/web', 'alice/nginx', 'dave/nginxplus', 'erin/tools']) await push(n);
      await f.index.describe('carol/web', { description: 'a web server in front of nginx' });
      await f.index.star('alice/nginx', 'u1', true);
      await f.index.addPulls(new Map([['dave/nginxplus', 5]]));
      assert.deepEqual(await names({ text: 'nginx' }), ['alice/nginx', 'nginx', 'dave/nginxplus', 'bob/nginx-proxy', 'carol/web']);
      assert.deepEqual(await names({ text: 'NGINX proxy' }), ['bob/nginx-proxy']);
      assert.deepEqual(await names({ text: 'zzz' }), []);
    });

    it('filters by namespace, official and stars; sorts; paginates with a total', async () => {
      for (const n of ['library/redis', 'redis', 'alice/redis', 'alice/redis-tools', 'bob/redis']) await push(n);
      await f.index.star('bob/redis', 'u1', true);
      await f.index.star('bob/redis', 'u2', true);
      await f.index.star('alice/redis', 'u1', true);
      assert.deepEqual(await names({ text: 'redis', official: true }), ['library/redis', 'redis']);
      assert.deepEqual(await names({ text: 'redis', namespace: 'alice' }), ['alice/redis', 'alice/redis-tools']);
      assert.deepEqual(await names({ text: 'redis', minStars: 2 }), ['bob/redis']);
      assert.deepEqual((await names({ sort: 'stars' })).slice(0, 2), ['bob/redis', 'alice/redis']);
      const page = await f.index.search({ text: 'redis', access: SEE_EVERYTHING, sort: 'relevance', offset: 2, limit: 2 });
      assert.equal(page.total, 5);
      assert.equal(page.hits.length, 2);
      const last = await f.index.search({ text: 'redis', access: SEE_EVERYTHING, sort: 'relevance', offset: 4, limit: 2 });
      assert.equal(last.hits.length, 1);
    });

    it('never shows a private repository the filter does not allow, in hits or totals', async () => {
      await push('alice/secret-app', 'private');
      await push('acme/secret-api', 'private');
      await push('acme/secret-web', 'private');
      await push('bob/secret-public', 'public');
      const search = (access: AccessFilter) => f.index.search({ text: 'secret', access, sort: 'relevance', offset: 0, limit: 10 });
      assert.deepEqual((await search(ANONYMOUS_FILTER)).hits.map((h) => h.name), ['bob/secret-public']);
      assert.equal((await search(ANONYMOUS_FILTER)).total, 1);
      const alice: AccessFilter = { all: false, defaultPublic: false, namespaces: ['alice'], repositories: ['acme/secret-web'] };
      assert.deepEqual((await search(alice)).hits.map((h) => h.name).sort(), ['acme/secret-web', 'alice/secret-app', 'bob/secret-public']);
      const owner: AccessFilter = { all: false, defaultPublic: false, namespaces: ['acme'], repositories: [] };
      assert.equal((await search(owner)).total, 3);
      const token: AccessFilter = { ...owner, restrict: ['acme/secret-api'] };
      assert.deepEqual((await search(token)).hits.map((h) => h.name).sort(), ['acme/secret-api', 'bob/secret-public']);
      const wildcard: AccessFilter = { ...alice, restrict: ['acme/*'] };
      assert.deepEqual((await search(wildcard)).hits.map((h) => h.name).sort(), ['acme/secret-web', 'bob/secret-public']);
      assert.equal((await search(SEE_EVERYTHING)).total, 4);
      // Visibility changed after the push, and repositories without settings (the default applies).
      await f.accounts.setVisibility('bob/secret-public', 'bob', 'private');
      assert.equal((await search(ANONYMOUS_FILTER)).total, 0);
      await f.meta.putManifest('carol/secret-unset', manifest(), 'latest');
      assert.equal((await search(ANONYMOUS_FILTER)).total, 0);
      assert.deepEqual((await search({ ...ANONYMOUS_FILTER, defaultPublic: true })).hits.map((h) => h.name), ['carol/secret-unset']);
    });

    it('keeps stars per user, descriptions and pull counts', async () => {
      await push('library/ubuntu');
      assert.equal(await f.index.star('library/ubuntu', 'alice', true), 1);
      assert.equal(await f.index.star('library/ubuntu', 'alice', true), 1);
      assert.equal(await f.index.star('library/ubuntu', 'bob', true), 2);
      assert.equal(await f.index.star('library/ubuntu', 'bob', false), 1);
      assert.equal(await f.index.star('nobody/here', 'bob', true), undefined);
      assert.deepEqual(await f.index.starredBy('alice'), ['library/ubuntu']);
      assert.equal(await f.index.describe('library/ubuntu', { description: 'Ubuntu base image', fullDescription: '# Ubuntu\n\nthe OS' }), true);
      assert.equal(await f.index.describe('nobody/here', { description: 'x' }), false);
      await f.index.addPulls(new Map([['library/ubuntu', 3]]));
      await f.index.addPulls(new Map([['library/ubuntu', 2]]));
      const d = await f.index.details('library/ubuntu', 'alice');
      assert.ok(d);
      assert.equal(d.starCount, 1);
      assert.equal(d.pullCount, 5);
      assert.equal(d.starred, true);
      assert.equal(d.isOfficial, true);
      assert.equal(d.isAutomated, false);
      assert.equal(d.fullDescription, '# Ubuntu\n\nthe OS');
      assert.equal((await f.index.details('library/ubuntu', 'bob'))?.starred, false);
      assert.deepEqual(await names({ text: 'base image' }), ['library/ubuntu']);
    });
  });
}
