/**
 * Findings 3 and 7 of the adversarial review: a bearer JWT from the token server carried its
 * user's full account-API rights whatever its scopes (an administrator's token for one pull listed
 * every user, read anyone's tokens and organisations, and revoked tokens, sessions included), and
 * kept its grants after its user was deleted. Now a bearer token grants only what its scopes name,
 * never reaches the account API, and stops at once when its user goes; and access control switches
 * on at the first request after the first user appears, also one another process (the CLI) created.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { after, before, describe, it } from 'node:test';
import { startAuthRegistry, type AuthRegistry } from '../helpers/auth.ts';
import { AuthClient, basicHeader } from '../helpers/auth-client.ts';
import { SYSTEM } from '../../src/auth/principal.ts';

const ROOT = { user: 'boss', password: 'boss-password-1' };
const ALICE = { user: 'alice', password: 'alice-password-1' };

async function bearer(url: string, who: { user: string; password: string }, scope: string): Promise<string> {
  const res = await fetch(`${url}/auth/token?service=berth&scope=${encodeURIComponent(scope)}`, { headers: { authorization: basicHeader(who) } });
  assert.equal(res.status, 200);
  return ((await res.json()) as { token: string }).token;
}

describe('a bearer token grants only what its scopes name', () => {
  let reg: AuthRegistry;
  let aliceToken: string;
  let rootPull: string;
  const as = (token: string, extra: Record<string, string> = {}) => ({ headers: { authorization: `Bearer ${token}`, ...extra } });

  before(async () => {
    reg = await startAuthRegistry();
    await reg.accounts.createUser(SYSTEM, ROOT.user, ROOT.password, true);
    await reg.accounts.createUser(SYSTEM, ALICE.user, ALICE.password, false);
    await reg.accounts.createOrg(SYSTEM, 'acme', 'alice');
    await new AuthClient(reg.url, ALICE, 'basic').pushImage('alice/pub', 'v1');
    await new AuthClient(reg.url, ALICE, 'basic').pushImage('alice/secret', 'v1');
    await reg.accounts.setVisibility(SYSTEM, 'alice/pub', 'public');
    aliceToken = (await reg.accounts.createToken(SYSTEM, 'alice', 'ci', null, null)).token.id;
    rootPull = await bearer(reg.url, ROOT, 'repository:alice/pub:pull');
  });
  after(() => reg.stop());

  it("refuses an administrator's pull token on every account read and on token revocation", async () => {
    for (const path of ['/api/v1/user', '/api/v1/users', '/api/v1/users/alice', '/api/v1/users/alice/tokens', '/api/v1/orgs', '/api/v1/orgs/acme']) {
      const res = await fetch(`${reg.url}${path}`, as(rootPull));
      assert.equal(res.status, 403, path);
      assert.equal(((await res.json()) as { errors: { code: string }[] }).errors[0]?.code, 'DENIED', path);
    }
    const revoke = await fetch(`${reg.url}/api/v1/users/alice/tokens/${aliceToken}`, { method: 'DELETE', ...as(rootPull) });
    assert.equal(revoke.status, 403);
    assert.equal((await reg.running.access.store.listTokens('alice')).length, 1, 'the token is still there');
    // The same administrator by password may.
    assert.equal((await fetch(`${reg.url}/api/v1/users`, { headers: { authorization: basicHeader(ROOT) } })).status, 200);
  });

  it("gives an administrator's pull token nothing beyond its scope on repositories", async () => {
    const secret = await fetch(`${reg.url}/api/v1/repositories/alice/secret`, as(rootPull));
    assert.notEqual(secret.status, 200, 'a private repository outside the scope');
    const change = await fetch(`${reg.url}/api/v1/repositories/alice/pub`, {
      method: 'PATCH',
      ...as(rootPull, { 'content-type': 'application/json' }),
      body: JSON.stringify({ visibility: 'private' }),
    });
    assert.equal(change.status, 401);
    assert.match(change.headers.get('www-authenticate') ?? '', /insufficient_scope/);
    const search = (await (await fetch(`${reg.url}/api/v1/search?q=alice`, as(rootPull))).json()) as { results: { name: string }[] };
    assert.deepEqual(search.results.map((r) => r.name), ['alice/pub'], 'search sees what the token may pull, not all the administrator may');
    assert.equal((await fetch(`${reg.url}/v2/alice/secret/tags/list`, as(rootPull))).status, 401);
  });

  it('lists with a catalog token what its user may pull', async () => {
    const token = await bearer(reg.url, ALICE, 'registry:catalog:*');
    const res = await fetch(`${reg.url}/v2/_catalog`, as(token));
    assert.deepEqual(await res.json(), { repositories: ['alice/pub', 'alice/secret'] });
  });

  it('stops a deleted user’s bearer token at once', async () => {
    await reg.accounts.createUser(SYSTEM, 'dora', 'dora-password-1', false);
    const token = await bearer(reg.url, { user: 'dora', password: 'dora-password-1' }, 'repository:dora/app:pull,push');
    assert.equal((await fetch(`${reg.url}/v2/dora/app/blobs/uploads/`, { method: 'POST', ...as(token) })).status, 202);
    await reg.accounts.deleteUser(SYSTEM, 'dora');
    const refused = await fetch(`${reg.url}/v2/dora/app/blobs/uploads/`, { method: 'POST', ...as(token) });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /invalid_token/);
  });
});

describe('access control switches on with the first user, whoever creates it', () => {
  let reg: AuthRegistry;
  before(async () => {
    reg = await startAuthRegistry();
  });
  after(() => reg.stop());

  it('is on at the first request after another process (the CLI) created a user, with no waiting', async () => {
    assert.equal((await fetch(`${reg.url}/v2/`)).status, 200, 'open: no users yet');
    // Another connection to the same database, as `berth user add` in another process has.
    const other = new Database(join(reg.root, 'berth.db'));
    try {
      other.prepare("INSERT INTO namespaces (name, kind, created_at) VALUES ('cli', 'user', 0)").run();
      other.prepare("INSERT INTO users (name, password_hash, admin, created_at) VALUES ('cli', NULL, 1, 0)").run();
    } finally {
      other.close();
    }
    assert.equal((await fetch(`${reg.url}/v2/`)).status, 401);
  });
});

describe('scoped tokens and the account API (second review)', () => {
  let reg: AuthRegistry;
  before(async () => {
    reg = await startAuthRegistry();
    await reg.accounts.createUser(SYSTEM, ALICE.user, ALICE.password, false);
    await reg.accounts.createUser(SYSTEM, 'bob', 'bob-password-1', false);
    await reg.accounts.createOrg(SYSTEM, 'acme', 'alice');
    await new AuthClient(reg.url, { user: 'bob', password: 'bob-password-1' }, 'basic').pushImage('bob/tool', 'v1');
    await reg.accounts.setVisibility(SYSTEM, 'bob/tool', 'public');
  });
  after(() => reg.stop());

  it('a bearer token for one repository cannot star another', async () => {
    const token = await bearer(reg.url, ALICE, 'repository:alice/secret:pull');
    const res = await fetch(`${reg.url}/api/v1/repositories/bob/tool/_star`, { method: 'PUT', headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /insufficient_scope/);
    const starring = await fetch(`${reg.url}/api/v1/repositories/bob/tool/_star`, { method: 'PUT', headers: { authorization: basicHeader(ALICE) } });
    assert.equal(starring.status, 200, 'by password she may');
  });

  it('a scoped access token reads no organisation, and no access token revokes tokens', async () => {
    const scoped = await reg.accounts.createToken(SYSTEM, 'alice', 'puller', ['repository:alice/pub:pull'], null);
    const asScoped = { authorization: basicHeader({ user: 'alice', password: scoped.secret }) };
    assert.equal((await fetch(`${reg.url}/api/v1/orgs/acme`, { headers: asScoped })).status, 404);
    assert.deepEqual(((await (await fetch(`${reg.url}/api/v1/orgs`, { headers: asScoped })).json()) as { orgs: unknown[] }).orgs, []);
    const full = await reg.accounts.createToken(SYSTEM, 'alice', 'ci', null, null);
    const revoke = await fetch(`${reg.url}/api/v1/users/alice/tokens/${scoped.token.id}`, {
      method: 'DELETE',
      headers: { authorization: basicHeader({ user: 'alice', password: full.secret }) },
    });
    assert.equal(revoke.status, 403);
    assert.equal((await reg.running.access.store.listTokens('alice')).length, 2);
    assert.equal((await fetch(`${reg.url}/api/v1/users/alice/tokens/${scoped.token.id}`, { method: 'DELETE', headers: { authorization: basicHeader(ALICE) } })).status, 204);
  });
});
