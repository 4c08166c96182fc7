/**
 * Immutable tag rules without HTTP: globs, the config's rules overridden and lifted by the settings
 * store's, and the guard's decisions (the e2e test, test/e2e/immutable-tags.test.ts, covers every path).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openSqliteBackend } from '../meta/sqlite/backend.ts';
import { ImmutableTags, tagGlobCovers, tagGlobProblem } from './immutable.ts';
import { TagImmutableError } from './errors.ts';

describe('immutable tags', () => {
  it('tag globs: * any run, ? one character, everything else literal', () => {
    assert.ok(tagGlobCovers('v*', 'v1.2.3'));
    assert.ok(tagGlobCovers('v*', 'v'));
    assert.ok(!tagGlobCovers('v*', 'latest-v1'));
    assert.ok(tagGlobCovers('v?.0', 'v1.0'));
    assert.ok(!tagGlobCovers('v?.0', 'v10.0'));
    assert.ok(!tagGlobCovers('1.0', '1x0'), 'a dot is a dot');
    assert.ok(tagGlobCovers('*', 'anything'));
    for (const bad of ['', 'a b', '(x)', 'a/b', 'x'.repeat(129), 'ü']) assert.notEqual(tagGlobProblem(bad), undefined, bad);
    for (const good of ['v*', '*', 'release-?', '1.0_rc.1']) assert.equal(tagGlobProblem(good), undefined, good);
  });

  it("the API's rule replaces the config's of its pattern; lifting a config rule disables it; reset brings it back", async () => {
    const backend = openSqliteBackend({ path: ':memory:', now: () => 1000 });
    try {
      const rules = new ImmutableTags([{ repository: 'acme/*', tags: ['v*'] }, { repository: 'acme/*', tags: ['stable'] }], backend.settings, backend.meta);
      assert.deepEqual(await rules.rules(), [{ repository: 'acme/*', tags: ['v*', 'stable'], source: 'config', disabled: false, configTags: ['v*', 'stable'] }]);
      assert.equal((await rules.ruleFor('acme/team/app', 'v1'))?.repository, 'acme/*', '* crosses /');
      assert.equal(await rules.ruleFor('acme/app', 'latest'), undefined);
      assert.equal(await rules.ruleFor('acmex/app', 'v1'), undefined);
      await rules.put({ repository: 'acme/*', tags: ['release-*'] }, 'ops');
      assert.equal(await rules.ruleFor('acme/app', 'v1'), undefined, 'replaced');
      assert.equal((await rules.ruleFor('acme/app', 'release-1'))?.updatedBy, 'ops');
      assert.equal(await rules.lift('acme/*', 'ops'), true);
      const [lifted] = await rules.rules();
      assert.deepEqual([lifted?.disabled, lifted?.tags, lifted?.configTags], [true, [], ['v*', 'stable']]);
      assert.equal(await rules.ruleFor('acme/app', 'v1'), undefined);
      assert.equal(await rules.lift('acme/*', 'ops'), false, 'already lifted');
      assert.equal(await rules.reset('acme/*'), true);
      assert.equal((await rules.ruleFor('acme/app', 'v1'))?.source, 'config');
      assert.equal(await rules.lift('other/*', 'ops'), false);
    } finally {
      await backend.close();
    }
  });

  it('the guard refuses moving and deleting a held tag, and deleting a manifest it points at; nothing else', async () => {
    const backend = openSqliteBackend({ path: ':memory:' });
    try {
      const d = (c: string) => `sha256:${c.repeat(64)}`;
      const mediaType = 'application/vnd.oci.image.manifest.v1+json';
      for (const c of ['a', 'b']) {
        await backend.meta.putManifest('acme/app', { digest: d(c), mediaType, size: 2, artifactType: null, subject: null, annotations: null, createdAt: 1, blobs: [], children: [] }, c === 'a' ? 'v1' : 'dev');
      }
      const rules = new ImmutableTags([{ repository: 'acme/*', tags: ['v*'] }], backend.settings, backend.meta);
      await rules.manifestPut('acme/app', { digest: d('a') }, 'v1');
      await rules.manifestPut('acme/app', { digest: d('b') }, 'v2');
      await rules.manifestPut('acme/app', { digest: d('b') }, undefined);
      await assert.rejects(rules.manifestPut('acme/app', { digest: d('b') }, 'v1'), TagImmutableError);
      await assert.rejects(rules.manifestDelete('acme/app', { kind: 'tag', tag: 'v1' }), TagImmutableError);
      await assert.rejects(rules.manifestDelete('acme/app', { kind: 'digest', digest: d('a') }), /tagged "v1"/);
      await rules.manifestDelete('acme/app', { kind: 'digest', digest: d('b') });
      await rules.manifestDelete('acme/app', { kind: 'tag', tag: 'dev' });
      await rules.manifestDelete('other/app', { kind: 'tag', tag: 'v1' });
    } finally {
      await backend.close();
    }
  });
});
