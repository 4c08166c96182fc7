/**
 * ONE behavioural suite for every AccountStore implementation (SQLite now, PostgreSQL later):
 * each implementation's test calls runAccountStoreConformance with a factory for an empty store.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AccountConflictError } from './errors.ts';
import type { AccountStore } from './store.ts';

export function runAccountStoreConformance(name: string, make: () => Promise<{ store: AccountStore; cleanup: () => Promise<void> }>): void {
  describe(`account store conformance: ${name}`, () => {
    let store: AccountStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await make());
    });
    afterEach(() => cleanup());

    it('creates, reads, updates and deletes users; the first user is what turns access control on', async () => {
      assert.equal(await store.hasUsers(), false);
      const alice = await store.createUser({ name: 'alice', passwordHash: 'h1', admin: false });
      assert.equal(alice.name, 'alice');
      assert.equal(await store.hasUsers(), true);
      assert.deepEqual(await store.getUser('alice'), { name: 'alice', passwordHash: 'h1', admin: false, createdAt: alice.createdAt });
      assert.equal(await store.setPassword('alice', 'h2'), true);
      assert.equal(await store.setAdmin('alice', true), true);
      assert.equal((await store.getUser('alice'))?.passwordHash, 'h2');
      assert.equal((await store.getUser('alice'))?.admin, true);
      assert.equal(await store.setPassword('nobody', 'x'), false);
      assert.deepEqual((await store.listUsers()).map((u) => u.name), ['alice']);
      assert.equal(await store.deleteUser('alice'), true);
      assert.equal(await store.getUser('alice'), undefined);
      assert.equal(await store.deleteUser('alice'), false);
    });

    it("moves userChanges with every user created, made admin or deleted through the store (access control's cache key)", async () => {
      let seen = store.userChanges();
      const moved = (): boolean => {
        const now = store.userChanges();
        const changed = now !== seen;
        seen = now;
        return changed;
      };
      await store.createUser({ name: 'alice', passwordHash: null, admin: false });
      assert.ok(moved(), 'createUser');
      await store.setAdmin('alice', true);
      assert.ok(moved(), 'setAdmin');
      await store.deleteUser('alice');
      assert.ok(moved(), 'deleteUser');
    });

    it('keeps users and organisations in one namespace', async () => {
      await store.createUser({ name: 'alice', passwordHash: null, admin: false });
      await assert.rejects(store.createUser({ name: 'alice', passwordHash: null, admin: false }), AccountConflictError);
      await assert.rejects(store.createOrg('alice', 'alice'), AccountConflictError);
      await store.createOrg('acme', 'alice');
      await assert.rejects(store.createUser({ name: 'acme', passwordHash: null, admin: false }), AccountConflictError);
      assert.equal(await store.namespaceKind('alice'), 'user');
      assert.equal(await store.namespaceKind('acme'), 'org');
      assert.equal(await store.namespaceKind('nobody'), undefined);
      assert.equal(await store.deleteUser('acme'), false, 'an organisation is not deleted as a user');
    });

    it('holds organisation members, teams and team roles', async () => {
      for (const n of ['alice', 'bob', 'carol']) await store.createUser({ name: n, passwordHash: null, admin: false });
      await store.createOrg('acme', 'alice');
      assert.deepEqual(await store.listOrgMembers('acme'), [{ user: 'alice', owner: true }]);
      await store.createTeam('acme', 'devs');
      await assert.rejects(store.createTeam('acme', 'devs'), AccountConflictError);
      assert.equal(await store.addTeamMember('acme', 'devs', 'bob'), true);
      assert.equal(await store.addTeamMember('acme', 'nope', 'bob'), false);
      assert.equal(await store.setTeamPermission('acme', 'devs', 'acme/app', 'write'), true);
      assert.equal(await store.setTeamPermission('acme', 'devs', '', 'read'), true);
      assert.deepEqual(await store.orgAccess('acme', 'bob'), {
        owner: false,
        roles: [
          { repository: '', role: 'read' },
          { repository: 'acme/app', role: 'write' },
        ].sort((a, b) => a.repository.localeCompare(b.repository)),
      });
      assert.equal(await store.orgAccess('acme', 'carol'), undefined);
      assert.deepEqual(await store.orgsOf('bob'), ['acme']);
      const [team] = await store.listTeams('acme');
      assert.deepEqual(team?.members, ['bob']);
      await store.setTeamPermission('acme', 'devs', 'acme/app', null);
      assert.deepEqual((await store.orgAccess('acme', 'bob'))?.roles, [{ repository: '', role: 'read' }]);
      await store.setOrgMember('acme', 'carol', true);
      assert.equal((await store.orgAccess('acme', 'carol'))?.owner, true);
      assert.equal(await store.removeOrgMember('acme', 'bob'), true);
      assert.equal(await store.orgAccess('acme', 'bob'), undefined);
      assert.deepEqual((await store.listTeams('acme'))[0]?.members, [], 'leaving the organisation leaves its teams');
      assert.equal(await store.deleteTeam('acme', 'devs'), true);
      assert.equal(await store.deleteOrg('acme'), true);
      assert.deepEqual(await store.listOrgs(), []);
    });

    it("lists an organisation's teams by name, each with its own members and roles", async () => {
      for (const n of ['alice', 'bob', 'carol']) await store.createUser({ name: n, passwordHash: null, admin: false });
      await store.createOrg('acme', 'alice');
      await store.createOrg('beta', 'alice');
      for (const t of ['ops', 'devs']) await store.createTeam('acme', t);
      await store.createTeam('beta', 'devs');
      await store.addTeamMember('acme', 'ops', 'carol');
      await store.addTeamMember('acme', 'devs', 'carol');
      await store.addTeamMember('acme', 'devs', 'bob');
      await store.addTeamMember('beta', 'devs', 'alice');
      await store.setTeamPermission('acme', 'devs', 'acme/web', 'write');
      await store.setTeamPermission('acme', 'devs', 'acme/app', 'read');
      await store.setTeamPermission('acme', 'ops', '', 'admin');
      await store.setTeamPermission('beta', 'devs', 'beta/x', 'read');
      assert.deepEqual(await store.listTeams('acme'), [
        {
          org: 'acme',
          name: 'devs',
          members: ['bob', 'carol'],
          permissions: [
            { repository: 'acme/app', role: 'read' },
            { repository: 'acme/web', role: 'write' },
          ],
        },
        { org: 'acme', name: 'ops', members: ['carol'], permissions: [{ repository: '', role: 'admin' }] },
      ]);
      assert.equal(await store.setTeamPermission('acme', 'devs', 'acme/web', 'admin'), true, 'a role is replaced');
      assert.equal(await store.setTeamPermission('acme', 'nope', 'acme/web', null), false);
      assert.equal(await store.removeTeamMember('acme', 'devs', 'bob'), true);
      assert.equal(await store.removeTeamMember('acme', 'devs', 'bob'), false);
      const roles = (await store.orgAccess('acme', 'carol'))?.roles ?? [];
      assert.deepEqual(
        [...roles].sort((a, b) => a.repository.localeCompare(b.repository)),
        [
          { repository: '', role: 'admin' },
          { repository: 'acme/app', role: 'read' },
          { repository: 'acme/web', role: 'admin' },
        ],
      );
      assert.deepEqual(await store.orgsOf('carol'), ['acme'], 'a team member is an organisation member');
      assert.deepEqual(await store.listOrgMembers('acme'), [
        { user: 'alice', owner: true },
        { user: 'bob', owner: false },
        { user: 'carol', owner: false },
      ]);
    });

    it('records repository visibility once, and counts private repositories per namespace', async () => {
      const first = await store.claimRepository('alice/app', 'alice', 'private');
      const again = await store.claimRepository('alice/app', 'alice', 'public');
      assert.equal(again?.visibility, 'private', 'a claim never changes what is recorded');
      assert.equal(first?.visibility, 'private');
      await store.claimRepository('alice/two', 'alice', 'private');
      assert.equal(await store.countPrivate('alice'), 2);
      await store.setVisibility('alice/two', 'alice', 'public');
      assert.equal(await store.countPrivate('alice'), 1);
      assert.equal(await store.claimRepository('alice/three', 'alice', 'private', 1), undefined, 'the private limit is reached');
      assert.equal(await store.getRepository('alice/three'), undefined);
      assert.equal((await store.claimRepository('alice/three', 'alice', 'private', 2))?.visibility, 'private');
      assert.equal((await store.claimRepository('alice/app', 'alice', 'private', 1))?.visibility, 'private', 'an existing repository is never refused');
      assert.equal((await store.getRepository('nope/x')), undefined);
    });

    it('finds live tokens by secret hash only, and revokes them', async () => {
      await store.createUser({ name: 'alice', passwordHash: null, admin: false });
      const now = Date.now();
      await store.createToken({ id: 't1', user: 'alice', kind: 'pat', name: 'ci', secretHash: 'aa', scopes: ['repository:alice/app:pull'], expiresAt: null });
      await store.createToken({ id: 't2', user: 'alice', kind: 'pat', name: 'old', secretHash: 'bb', scopes: null, expiresAt: now - 1 });
      await store.createToken({ id: 't3', user: 'alice', kind: 'refresh', name: 'login', secretHash: 'cc', scopes: null, expiresAt: null });
      assert.deepEqual((await store.findToken('aa', now))?.scopes, ['repository:alice/app:pull']);
      assert.equal(await store.findToken('bb', now), undefined, 'expired');
      assert.equal(await store.findToken('zz', now), undefined);
      await store.touchToken('t1', now);
      assert.equal((await store.findToken('aa', now))?.lastUsedAt, now);
      assert.deepEqual((await store.listTokens('alice')).map((t) => t.id).sort(), ['t1', 't2', 't3']);
      assert.equal(await store.revokeTokens('alice', 'refresh'), 1);
      assert.equal(await store.findToken('cc', now), undefined);
      assert.equal(await store.revokeToken('t1'), true);
      assert.equal(await store.findToken('aa', now), undefined);
      await store.deleteUser('alice');
      assert.deepEqual(await store.listTokens('alice'), [], "a user's tokens go with them");
    });
  });
}
