import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accessFilter } from './access.ts';
import type { AccountStore, OrgAccess } from '../auth/store.ts';
import type { Principal } from '../auth/principal.ts';

/** Only what accessFilter reads. */
function store(orgs: Record<string, Record<string, OrgAccess>>): AccountStore {
  const partial: Pick<AccountStore, 'orgsOf' | 'orgAccess'> = {
    orgsOf: async (user) => Object.keys(orgs).filter((o) => orgs[o]?.[user] !== undefined),
    orgAccess: async (org, user) => orgs[org]?.[user],
  };
  return partial as AccountStore;
}

const user = (name: string, extra: Partial<Extract<Principal, { kind: 'user' }>> = {}): Principal => ({ kind: 'user', name, admin: false, via: 'password', ...extra });

describe('accessFilter', () => {
  const accounts = store({
    acme: { alice: { owner: true, roles: [] }, carol: { owner: false, roles: [{ repository: 'acme/api', role: 'read' }] } },
    beta: { carol: { owner: false, roles: [{ repository: '', role: 'write' }] } },
  });

  it('lets admins and the system see everything', async () => {
    assert.deepEqual(await accessFilter(user('root', { admin: true }), accounts, false), { all: true });
    assert.deepEqual(await accessFilter({ kind: 'system' }, accounts, false), { all: true });
  });

  it('gives anonymous callers public repositories only', async () => {
    assert.deepEqual(await accessFilter({ kind: 'anonymous' }, accounts, true), { all: false, defaultPublic: true, namespaces: [], repositories: [] });
  });

  it('gives users their namespace, owned organisations, org-wide roles and single repositories', async () => {
    assert.deepEqual(await accessFilter(user('alice'), accounts, false), { all: false, defaultPublic: false, namespaces: ['alice', 'acme'], repositories: [] });
    assert.deepEqual(await accessFilter(user('carol'), accounts, false), { all: false, defaultPublic: false, namespaces: ['carol', 'beta'], repositories: ['acme/api'] });
  });

  it("cuts a scoped token's private view down to its pull scopes", async () => {
    const restrict = [
      { type: 'repository' as const, name: 'alice/app', actions: ['pull' as const] },
      { type: 'repository' as const, name: 'acme/*', actions: ['push' as const] },
    ];
    const filter = await accessFilter(user('alice', { restrict }), accounts, false);
    assert.equal(filter.all, false);
    if (!filter.all) assert.deepEqual(filter.restrict, ['alice/app']);
  });
});
