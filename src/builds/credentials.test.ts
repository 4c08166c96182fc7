import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AccessPolicy } from '../auth/policy.ts';
import type { AccountStore, NewToken } from '../auth/store.ts';
import { BuildOwnerError, TokenPushCredentials } from './credentials.ts';

function fakes(publicRepos: string[]) {
  const made: NewToken[] = [];
  const revoked: string[] = [];
  const store = {
    getUser: async (name: string) => (name === 'alice' || name === 'carol' ? { name, admin: false } : undefined),
    createToken: async (t: NewToken) => (made.push(t), t),
    revokeToken: async (id: string) => (revoked.push(id), true),
  } as unknown as AccountStore;
  // alice may push to her own repositories; carol to none
  const policy = {
    repositoryActions: async (p: { kind: string; name?: string }, name: string) =>
      new Set(p.kind === 'user' && p.name === 'alice' && name.startsWith('alice/') ? ['pull', 'push'] : publicRepos.includes(name) ? ['pull'] : []),
  } as unknown as AccessPolicy;
  return { made, revoked, store, policy };
}

describe('TokenPushCredentials', () => {
  it("scopes a build's token to its repository and the public base images only, and revokes it", async () => {
    const f = fakes(['library/debian']);
    const creds = new TokenPushCredentials(f.store, f.policy, async () => true);
    const got = await creds.mint('alice/app', 'alice', { id: 7, pulls: ['library/debian', 'bob/private-base', 'alice/app'] }, 1_000);
    assert.ok(got);
    assert.equal(got.username, 'alice');
    assert.deepEqual(f.made[0]?.scopes, ['repository:alice/app:pull,push', 'repository:library/debian:pull'], 'a private base the Dockerfile names is not granted');
    assert.equal(f.made[0]?.expiresAt, 1_000);
    await got.revoke();
    assert.deepEqual(f.revoked, [f.made[0]?.id]);
  });

  it('needs no token with access control off, and refuses an owner who is not a user or may not push', async () => {
    const f = fakes([]);
    assert.equal(await new TokenPushCredentials(f.store, f.policy, async () => false).mint('alice/app', null, { id: 1, pulls: [] }, 1), undefined);
    const on = new TokenPushCredentials(f.store, f.policy, async () => true);
    await assert.rejects(on.mint('alice/app', null, { id: 1, pulls: [] }, 1), BuildOwnerError);
    await assert.rejects(on.mint('alice/app', 'gone', { id: 1, pulls: [] }, 1), BuildOwnerError);
    await assert.rejects(on.mint('alice/app', 'carol', { id: 1, pulls: [] }, 1), /may no longer push to alice\/app/, 'an owner who lost the right gets no token');
    assert.equal(f.made.length, 0);
  });
});
