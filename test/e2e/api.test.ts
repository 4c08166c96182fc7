/**
 * The management API over real HTTP: users, access tokens and repository settings (organisations
 * and teams are in api-orgs.test.ts). Every route's success and its refusals: anonymous 401,
 * another user 403, unknown 404, taken 409, bad body 400.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { useTestRegistry } from '../helpers/inproc.ts';
import { api } from '../helpers/api.ts';
import { AuthClient, type Credentials } from '../helpers/auth-client.ts';
import { SYSTEM } from '../../src/auth/principal.ts';
import { paths } from '../../src/http/routes.ts';

const root: Credentials = { user: 'ops', password: 'ops-password' };
const alice: Credentials = { user: 'alice', password: 'alice-password' };
const bob: Credentials = { user: 'bob', password: 'bob-password' };
const DAY = 86_400_000;

describe('management API: users', () => {
  const t = useTestRegistry();
  const call = (...a: Parameters<ReturnType<typeof api>>) => api(t.reg.url)(...a);
  before(() => t.reg.running.access.accounts.createUser(SYSTEM, root.user, root.password, true));

  it('says who the caller is, and asks anonymous callers to log in', async () => {
    const anon = await call('GET', paths.apiMe());
    assert.equal(anon.status, 401);
    assert.equal(anon.code, 'UNAUTHORIZED');
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/auth\/token",service="berth"/);
    const me = await call('GET', paths.apiMe(), { as: root });
    assert.equal(me.status, 200);
    assert.deepEqual({ ...(me.body as object), createdAt: undefined }, { name: 'ops', admin: true, orgs: [], createdAt: undefined });
    assert.equal((await call('GET', paths.apiMe(), { as: { user: 'ops', password: 'wrong-password' } })).status, 401);
  });

  it('lets an administrator create users, and nobody else', async () => {
    const made = await call('POST', paths.apiUsers(), { as: root, body: { name: 'alice', password: alice.password } });
    assert.equal(made.status, 201, made.text);
    assert.equal(made.headers.get('location'), '/api/v1/users/alice');
    assert.deepEqual({ ...(made.body as object), createdAt: undefined }, { name: 'alice', admin: false, createdAt: undefined });
    assert.equal((await call('POST', paths.apiUsers(), { as: root, body: { name: 'bob', password: bob.password } })).status, 201);
    assert.equal((await call('GET', paths.apiMe(), { as: alice })).status, 200);

    assert.equal((await call('POST', paths.apiUsers(), { as: alice, body: { name: 'eve', password: 'eve-password' } })).code, 'DENIED');
    assert.equal((await call('POST', paths.apiUsers(), { body: { name: 'eve', password: 'eve-password' } })).status, 401);
    const taken = await call('POST', paths.apiUsers(), { as: root, body: { name: 'alice', password: 'other-password' } });
    assert.equal(taken.status, 409);
    assert.equal(taken.code, 'CONFLICT');
  });

  it('refuses bad bodies with 400 and large ones with 413', async () => {
    const bad = [
      { name: 'Bad Name', password: 'long-enough' },
      { name: 'library', password: 'long-enough' },
      { name: 'carol', password: 'short' },
      { name: 'carol' },
      { name: 'carol', password: 'long-enough', admin: 'yes' },
      { name: 'carol', password: 'long-enough', extra: 1 },
      '{"name": "carol", ',
      '[]',
    ];
    for (const body of bad) {
      const res = await call('POST', paths.apiUsers(), { as: root, body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.code, 'REQUEST_INVALID');
    }
    const huge = await call('POST', paths.apiUsers(), { as: root, body: { name: 'carol', password: 'x'.repeat(100_000) } });
    assert.equal(huge.status, 413);
    assert.equal((await call('GET', paths.apiUser('carol'), { as: root })).status, 404);
  });

  it('lists users for administrators only', async () => {
    const list = await call('GET', paths.apiUsers(), { as: root });
    assert.equal(list.status, 200);
    assert.deepEqual(
      (list.body as { users: { name: string; admin: boolean }[] }).users.map((u) => [u.name, u.admin]),
      [
        ['alice', false],
        ['bob', false],
        ['ops', true],
      ],
    );
    assert.equal((await call('GET', paths.apiUsers(), { as: alice })).status, 403);
    assert.equal((await call('GET', paths.apiUsers())).status, 401);
  });

  it('shows a user to themselves and administrators', async () => {
    const self = await call('GET', paths.apiUser('alice'), { as: alice });
    assert.equal(self.status, 200);
    assert.deepEqual((self.body as { orgs: string[] }).orgs, []);
    assert.equal((await call('GET', paths.apiUser('alice'), { as: root })).status, 200);
    assert.equal((await call('GET', paths.apiUser('alice'), { as: bob })).code, 'DENIED');
    assert.equal((await call('GET', paths.apiUser('alice'))).status, 401);
    assert.equal((await call('GET', paths.apiUser('nobody'), { as: root })).code, 'NOT_FOUND');
  });

  it('changes passwords (self or admin) and the admin flag (admin only)', async () => {
    const changed = await call('PATCH', paths.apiUser('alice'), { as: alice, body: { password: 'alice-new-password' } });
    assert.equal(changed.status, 200, changed.text);
    assert.equal((await call('GET', paths.apiMe(), { as: alice })).status, 401);
    alice.password = 'alice-new-password';
    assert.equal((await call('GET', paths.apiMe(), { as: alice })).status, 200);

    assert.equal((await call('PATCH', paths.apiUser('alice'), { as: alice, body: { admin: true } })).status, 403);
    assert.equal((await call('PATCH', paths.apiUser('alice'), { as: bob, body: { password: 'hijacked-password' } })).status, 403);
    assert.equal((await call('PATCH', paths.apiUser('alice'), { body: { password: 'hijacked-password' } })).status, 401);
    const promoted = await call('PATCH', paths.apiUser('bob'), { as: root, body: { admin: true } });
    assert.equal((promoted.body as { admin: boolean }).admin, true);
    assert.equal((await call('GET', paths.apiUsers(), { as: bob })).status, 200);
    assert.equal((await call('PATCH', paths.apiUser('bob'), { as: root, body: { admin: false } })).status, 200);
    assert.equal((await call('GET', paths.apiUsers(), { as: bob })).status, 403);

    assert.equal((await call('PATCH', paths.apiUser('bob'), { as: root, body: {} })).status, 400);
    assert.equal((await call('PATCH', paths.apiUser('bob'), { as: root, body: { password: 'short' } })).status, 400);
    assert.equal((await call('PATCH', paths.apiUser('nobody'), { as: root, body: { admin: true } })).status, 404);
  });

  it('deletes users (administrators only)', async () => {
    assert.equal((await call('POST', paths.apiUsers(), { as: root, body: { name: 'temp', password: 'temp-password' } })).status, 201);
    assert.equal((await call('DELETE', paths.apiUser('temp'), { as: bob })).status, 403);
    assert.equal((await call('DELETE', paths.apiUser('temp'))).status, 401);
    assert.equal((await call('DELETE', paths.apiUser('temp'), { as: root })).status, 204);
    assert.equal((await call('DELETE', paths.apiUser('temp'), { as: root })).status, 404);
    assert.equal((await call('GET', paths.apiMe(), { as: { user: 'temp', password: 'temp-password' } })).status, 401);
  });

  it('answers 405 with Allow for a method a route does not have', async () => {
    const res = await call('PUT', paths.apiUsers(), { as: root });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, POST');
  });

  it('creates access tokens whose secret is shown once and works as a password', async () => {
    const made = await call('POST', paths.apiTokens('alice'), { as: alice, body: { name: 'ci', scopes: ['repository:alice/app:pull,push'], expiresIn: '30d' } });
    assert.equal(made.status, 201, made.text);
    const token = made.body as { id: string; name: string; secret: string; scopes: string[]; expiresAt: string; lastUsedAt: null };
    assert.match(token.secret, /^berth_pat_/);
    assert.deepEqual(token.scopes, ['repository:alice/app:pull,push']);
    assert.ok(Math.abs(Date.parse(token.expiresAt) - (Date.now() + 30 * DAY)) < 60_000);
    assert.equal(made.headers.get('cache-control'), 'no-store');

    const listed = await call('GET', paths.apiTokens('alice'), { as: alice });
    assert.equal(listed.status, 200);
    assert.ok(!listed.text.includes(token.secret), 'a listing never holds a secret');
    const entry = (listed.body as { tokens: Record<string, unknown>[] }).tokens.find((x) => x['id'] === token.id);
    assert.deepEqual(Object.keys(entry ?? {}).sort(), ['createdAt', 'expiresAt', 'id', 'kind', 'lastUsedAt', 'name', 'scopes']);

    const robot = { user: 'alice', password: token.secret };
    const me = await call('GET', paths.apiMe(), { as: robot });
    assert.deepEqual(me.body, { name: 'alice', admin: false, orgs: [], scopes: ['repository:alice/app:pull,push'] });
    // A scoped token does not manage the account it belongs to.
    assert.equal((await call('POST', paths.apiTokens('alice'), { as: robot, body: { name: 'more' } })).status, 403);
    assert.equal((await call('PATCH', paths.apiUser('alice'), { as: robot, body: { password: 'robot-password' } })).status, 403);

    const admins = await call('POST', paths.apiTokens('bob'), { as: root, body: { name: 'for-bob', expiresIn: 3600 } });
    assert.equal(admins.status, 201);
    assert.ok(Math.abs(Date.parse((admins.body as { expiresAt: string }).expiresAt) - (Date.now() + 3_600_000)) < 60_000);
    const dated = await call('POST', paths.apiTokens('bob'), { as: bob, body: { name: 'dated', expiresAt: '2099-01-01T00:00:00Z' } });
    assert.equal((dated.body as { expiresAt: string }).expiresAt, '2099-01-01T00:00:00.000Z');
    const forever = await call('POST', paths.apiTokens('bob'), { as: bob, body: { name: 'forever' } });
    assert.equal((forever.body as { expiresAt: null }).expiresAt, null);
  });

  it('refuses tokens for others, bad scopes and bad expiries', async () => {
    assert.equal((await call('POST', paths.apiTokens('alice'), { as: bob, body: { name: 'x' } })).status, 403);
    assert.equal((await call('POST', paths.apiTokens('alice'), { body: { name: 'x' } })).status, 401);
    assert.equal((await call('GET', paths.apiTokens('alice'), { as: bob })).status, 403);
    assert.equal((await call('GET', paths.apiTokens('alice'))).status, 401);
    assert.equal((await call('POST', paths.apiTokens('nobody'), { as: root, body: { name: 'x' } })).status, 404);
    const bad = [
      { name: '' },
      { name: 'x', scopes: ['repository:../etc:pull'] },
      { name: 'x', scopes: ['nonsense'] },
      { name: 'x', expiresIn: 'soon' },
      { name: 'x', expiresIn: -5 },
      { name: 'x', expiresAt: 'tomorrow' },
      { name: 'x', expiresAt: '2001-01-01T00:00:00Z' },
      { name: 'x', expiresIn: '1d', expiresAt: '2099-01-01' },
      { name: 'x', secret: 'mine' },
      // no stored text holds NUL (PostgreSQL refuses it): 400 here, never a 500 from the database
      { name: 'x\u0000y' },
    ];
    for (const body of bad) assert.equal((await call('POST', paths.apiTokens('alice'), { as: alice, body })).code, 'REQUEST_INVALID', JSON.stringify(body));
  });

  it('revokes tokens: by their owner or an administrator', async () => {
    const made = await call('POST', paths.apiTokens('alice'), { as: alice, body: { name: 'short-lived' } });
    const { id, secret } = made.body as { id: string; secret: string };
    const robot = { user: 'alice', password: secret };
    assert.equal((await call('GET', paths.apiMe(), { as: robot })).status, 200);
    assert.equal((await call('DELETE', paths.apiToken('alice', id), { as: bob })).status, 403);
    assert.equal((await call('DELETE', paths.apiToken('alice', id))).status, 401);
    assert.equal((await call('DELETE', paths.apiToken('bob', id), { as: bob })).status, 404, "a token is revoked as its owner's");
    assert.equal((await call('DELETE', paths.apiToken('alice', id), { as: alice })).status, 204);
    assert.equal((await call('DELETE', paths.apiToken('alice', id), { as: alice })).status, 404);
    assert.equal((await call('GET', paths.apiMe(), { as: robot })).status, 401);
  });

  it('refuses a bearer token from the token server on the account API (review finding 3)', async () => {
    const res = await fetch(`${t.reg.url}${paths.token()}?service=berth`, {
      headers: { authorization: `Basic ${Buffer.from(`${alice.user}:${alice.password}`).toString('base64')}` },
    });
    const { token } = (await res.json()) as { token: string };
    const me = await call('GET', paths.apiMe(), { as: { bearer: token } });
    assert.equal(me.status, 403);
    assert.match(JSON.stringify(me.body), /not a bearer token/);
    assert.equal((await call('GET', paths.apiUsers(), { as: { bearer: token } })).status, 403);
    assert.equal((await call('GET', paths.apiMe(), { as: { bearer: `${token}x` } })).status, 401);
  });

  it("never turns a scoped token's bearer token into the user's full rights", async () => {
    // An administrator's robot, limited to pulling one repository.
    const { secret } = await t.reg.running.access.accounts.createToken(SYSTEM, root.user, 'puller', ['repository:ops/app:pull'], null);
    const res = await fetch(`${t.reg.url}${paths.token()}?service=berth&scope=repository:ops/app:pull`, {
      headers: { authorization: `Basic ${Buffer.from(`${root.user}:${secret}`).toString('base64')}` },
    });
    const { token } = (await res.json()) as { token: string };
    const bearer = { bearer: token };
    assert.equal((await call('POST', paths.apiUsers(), { as: bearer, body: { name: 'mallory', password: 'mallory-password', admin: true } })).status, 403);
    assert.equal((await call('POST', paths.apiTokens(root.user), { as: bearer, body: { name: 'unscoped' } })).status, 403);
    assert.equal((await call('GET', paths.events(), { as: bearer })).status, 403);
    assert.equal((await call('GET', paths.apiMe(), { as: bearer })).status, 403);
  });
});

describe('management API: repositories', () => {
  const t = useTestRegistry();
  const call = (...a: Parameters<ReturnType<typeof api>>) => api(t.reg.url)(...a);
  before(async () => {
    const accounts = t.reg.running.access.accounts;
    await accounts.createUser(SYSTEM, root.user, root.password, true);
    await accounts.createUser(SYSTEM, 'alice', 'alice-password');
    await accounts.createUser(SYSTEM, 'bob', 'bob-password');
    await new AuthClient(t.reg.url, { user: 'alice', password: 'alice-password' }, 'basic').pushImage('alice/app', '1.0');
  });
  const owner = { user: 'alice', password: 'alice-password' };
  const other = { user: 'bob', password: 'bob-password' };

  it('shows a private repository to who may pull it only', async () => {
    const mine = await call('GET', paths.apiRepository('alice/app'), { as: owner });
    assert.equal(mine.status, 200, mine.text);
    const body = mine.body as { name: string; namespace: string; visibility: string; actions: string[]; createdAt: string };
    assert.deepEqual([body.name, body.namespace, body.visibility, body.actions], ['alice/app', 'alice', 'private', ['pull', 'push', 'delete', 'admin']]);
    assert.ok(Date.parse(body.createdAt) > 0);
    assert.equal((await call('GET', paths.apiRepository('alice/app'), { as: other })).status, 404);
    const anon = await call('GET', paths.apiRepository('alice/app'));
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate') ?? '', /scope="repository:alice\/app:pull"/);
    assert.equal((await call('GET', paths.apiRepository('alice/none'), { as: root })).status, 404);
    const invalid = await call('GET', '/api/v1/repositories/Alice/App', { as: root });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.code, 'NAME_INVALID');
  });

  it('changes visibility: by the repository administrators only', async () => {
    assert.equal((await call('PATCH', paths.apiRepository('alice/app'), { as: other, body: { visibility: 'public' } })).status, 403);
    assert.equal((await call('PATCH', paths.apiRepository('alice/app'), { body: { visibility: 'public' } })).status, 401);
    for (const body of [{}, { visibility: 'open' }, { visibility: 'public', name: 'x' }, 'public', { description: 'a\u0000b' }, { fullDescription: '\u0000' }]) {
      assert.equal((await call('PATCH', paths.apiRepository('alice/app'), { as: owner, body })).code, 'REQUEST_INVALID', JSON.stringify(body));
    }
    const changed = await call('PATCH', paths.apiRepository('alice/app'), { as: owner, body: { visibility: 'public' } });
    assert.equal(changed.status, 200, changed.text);
    assert.equal((changed.body as { visibility: string }).visibility, 'public');

    const anon = await call('GET', paths.apiRepository('alice/app'));
    assert.equal(anon.status, 200);
    assert.deepEqual((anon.body as { actions: string[] }).actions, ['pull']);
    assert.equal((await fetch(`${t.reg.url}${paths.manifest('alice/app', '1.0')}`, { method: 'HEAD' })).status, 200);

    assert.equal((await call('PATCH', paths.apiRepository('alice/app'), { as: root, body: { visibility: 'private' } })).status, 200);
    assert.equal((await call('GET', paths.apiRepository('alice/app'))).status, 401);
  });
});

describe('management API before the first user', () => {
  const t = useTestRegistry();
  const call = (...a: Parameters<ReturnType<typeof api>>) => api(t.reg.url)(...a);

  it('lets nobody in anonymously, though the registry itself is open', async () => {
    assert.equal((await fetch(`${t.reg.url}${paths.base()}`)).status, 200);
    assert.equal((await call('POST', paths.apiUsers(), { body: { name: 'mallory', password: 'mallory-password', admin: true } })).status, 401);
    assert.equal((await call('GET', paths.apiUsers())).status, 401);
    assert.equal((await call('GET', paths.apiMe())).status, 401);
    assert.equal(await t.reg.running.access.store.hasUsers(), false);
  });
});
