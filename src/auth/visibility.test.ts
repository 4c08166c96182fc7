/**
 * The catalog's and search's SQL filter (AccessPolicy.visibleTo, meta/sqlite/visibility-sql.ts)
 * and the policy's answer for one repository (repositoryActions) must agree: for every principal
 * and every repository of a fixture with users, organisations, team roles, scoped tokens, public,
 * private and unset repositories, the catalog lists exactly the repositories the policy lets the
 * principal pull, page by page.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openSqliteBackend } from '../meta/sqlite/backend.ts';
import { AccessPolicy } from './policy.ts';
import type { Principal } from './principal.ts';
import { namespaceOf, type Scope } from './scope.ts';
import type { Visibility } from './store.ts';
import type { NewManifest } from '../meta/store.ts';

const REPOSITORIES: Record<string, Visibility | undefined> = {
  'alice/app': 'private',
  'alice/site': 'public',
  'acme/api': 'private',
  'acme/web': 'private',
  'acme/docs': 'public',
  'beta/tool': 'private',
  'bob/secret': 'private',
  'bob/unset': undefined,
  'library/ubuntu': 'public',
  'library/internal': 'private',
  busybox: undefined,
  'zed/last': 'private',
  'ghcr.io/cached': 'private',
  'ghcr.io/open': 'public',
};

const user = (name: string, extra: Partial<Extract<Principal, { kind: 'user' }>> = {}): Principal => ({ kind: 'user', name, admin: false, via: 'password', ...extra });
const pull = (name: string): Scope => ({ type: 'repository', name, actions: ['pull'] });

const PRINCIPALS: Record<string, Principal> = {
  anonymous: { kind: 'anonymous' },
  alice: user('alice'),
  carol: user('carol'),
  dave: user('dave'),
  'eve (owns an organisation named like a mirror prefix)': user('eve'),
  'alice with a token for acme/*': user('alice', { restrict: [pull('acme/*')] }),
  'carol with a push-only token': user('carol', { restrict: [{ type: 'repository', name: 'beta/tool', actions: ['push'] }] }),
  'admin with a token for bob/*': user('root', { admin: true, restrict: [pull('bob/*')] }),
  admin: user('root', { admin: true }),
};

let counter = 0;
function manifest(): NewManifest {
  const hex = (++counter).toString(16).padStart(64, '0');
  return { digest: `sha256:${hex}`, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 10, artifactType: null, subject: null, annotations: null, createdAt: 0, blobs: [], children: [] };
}

for (const defaultVisibility of ['private', 'public'] as const) {
  describe(`catalog visibility agrees with the access policy (default ${defaultVisibility})`, () => {
    const { meta, accounts, search, close } = openSqliteBackend({ path: ':memory:' });
    const policy = new AccessPolicy({
      store: accounts,
      defaultVisibility,
      maxPrivateRepos: 0,
      repositoryExists: (name) => meta.repositoryExists(name),
      namespaceHasRepositories: async () => false,
      mirrorNamespaces: ['ghcr.io'],
    });

    before(async () => {
      for (const name of ['alice', 'bob', 'carol', 'dave', 'eve', 'root']) await accounts.createUser({ name, passwordHash: null, admin: name === 'root' });
      await accounts.createOrg('acme', 'alice');
      await accounts.createTeam('acme', 'readers');
      await accounts.addTeamMember('acme', 'readers', 'carol');
      await accounts.setTeamPermission('acme', 'readers', 'acme/api', 'read');
      await accounts.createOrg('beta', 'bob');
      await accounts.createTeam('beta', 'writers');
      await accounts.addTeamMember('beta', 'writers', 'carol');
      await accounts.setTeamPermission('beta', 'writers', '', 'write');
      await accounts.addTeamMember('acme', 'readers', 'dave');
      // Taken before the mirror was configured: it gives eve no rights on the mirrored names.
      await accounts.createOrg('ghcr.io', 'eve');
      await accounts.setTeamPermission('acme', 'readers', 'acme/web', null);
      for (const [name, visibility] of Object.entries(REPOSITORIES)) {
        if (visibility !== undefined) await accounts.claimRepository(name, namespaceOf(name), visibility);
        await meta.putManifest(name, manifest(), 'latest');
      }
    });
    after(close);

    for (const [who, principal] of Object.entries(PRINCIPALS)) {
      it(`lists for ${who} exactly what the policy lets them pull, in pages of any size`, async () => {
        const expected: string[] = [];
        for (const name of Object.keys(REPOSITORIES).sort()) if ((await policy.repositoryActions(principal, name)).has('pull')) expected.push(name);
        const filter = await policy.visibleTo(principal);
        assert.deepEqual(await meta.listRepositories({}, filter), expected);
        for (const n of [1, 2, 5]) {
          const pages: string[] = [];
          let last: string | undefined;
          for (;;) {
            const page = await meta.listRepositories({ n, ...(last !== undefined && { last }) }, filter);
            assert.ok(page.length <= n);
            pages.push(...page);
            if (page.length < n) break;
            last = page[page.length - 1];
          }
          assert.deepEqual(pages, expected, `pages of ${n}`);
        }
        const found = await search.search({ text: '', access: filter, sort: 'updated', offset: 0, limit: 100 });
        assert.deepEqual(found.hits.map((h) => h.name).sort(), expected, 'search sees the same');
      });
    }
  });
}

describe('AccessPolicy.visibleTo', () => {
  it('gives administrators everything, and an administrator with a scoped token every namespace cut down to its pull scopes', async () => {
    const { accounts, close } = openSqliteBackend({ path: ':memory:' });
    const policy = new AccessPolicy({
      store: accounts,
      defaultVisibility: 'private',
      maxPrivateRepos: 0,
      repositoryExists: async () => false,
      namespaceHasRepositories: async () => false,
    });
    assert.deepEqual(await policy.visibleTo(user('root', { admin: true })), { all: true });
    assert.deepEqual(await policy.visibleTo({ kind: 'system' }), { all: true });
    const scoped = await policy.visibleTo(user('root', { admin: true, restrict: [pull('bob/*'), { type: 'repository', name: 'x/y', actions: ['push'] }] }));
    assert.equal(scoped.all, false);
    if (!scoped.all) {
      assert.equal(scoped.everyNamespace, true);
      assert.deepEqual(scoped.restrict, ['bob/*']);
    }
    await close();
  });
});

describe('a mirror prefix taken as an organisation name', () => {
  it('gives its owner no rights on the mirrored repositories under it', async () => {
    const { accounts, close } = openSqliteBackend({ path: ':memory:' });
    await accounts.createUser({ name: 'eve', passwordHash: null, admin: false });
    await accounts.createOrg('ghcr.io', 'eve');
    await accounts.claimRepository('ghcr.io/x', 'ghcr.io', 'private');
    const options = { store: accounts, defaultVisibility: 'private' as const, maxPrivateRepos: 0, repositoryExists: async () => true, namespaceHasRepositories: async () => false };
    assert.deepEqual([...(await new AccessPolicy(options).repositoryActions(user('eve'), 'ghcr.io/x'))], ['pull', 'push', 'delete'], 'without the mirror, an owner');
    assert.deepEqual([...(await new AccessPolicy({ ...options, mirrorNamespaces: ['ghcr.io'] }).repositoryActions(user('eve'), 'ghcr.io/x'))], []);
    await close();
  });
});
