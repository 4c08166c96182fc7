/**
 * Web UI sessions over real HTTP: sign-in sets an HttpOnly SameSite=Strict cookie, the cookie is
 * honoured by the JSON API only (never by /v2/), changes need the session's CSRF token and a
 * same-origin Origin, sign-out and password changes end sessions, and the UI's requests get 401s
 * without a challenge (no browser password dialog).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAuthRegistry, type AuthRegistry } from '../helpers/auth.ts';
import { basicHeader } from '../helpers/auth-client.ts';
import { SYSTEM } from '../../src/auth/principal.ts';

const ALICE = { user: 'alice', password: 'alice-password-1' };
const BOB = { user: 'bob', password: 'bob-password-1' };

interface Session {
  cookie: string;
  csrf: string;
  setCookie: string;
}

describe('web UI sessions', () => {
  let reg: AuthRegistry;
  const call = (path: string, init: RequestInit = {}) => fetch(reg.url + path, init);
  const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });

  async function signIn(who: { user: string; password: string }): Promise<Session> {
    const res = await call('/api/v1/session', { method: 'POST', ...json({ username: who.user, password: who.password }) });
    const body = (await res.json()) as { user: { name: string }; csrfToken: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.user.name, who.user);
    const setCookie = res.headers.get('set-cookie') ?? '';
    const cookie = setCookie.split(';')[0] ?? '';
    assert.match(cookie, /^berth_session=berth_ses_/);
    return { cookie, csrf: body.csrfToken, setCookie };
  }

  before(async () => {
    reg = await startAuthRegistry();
    await reg.running.access.accounts.createUser(SYSTEM, ALICE.user, ALICE.password, false);
    await reg.running.access.accounts.createUser(SYSTEM, BOB.user, BOB.password, false);
    // alice/private exists and is private (the default).
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 }, layers: [] });
    const auth = { authorization: basicHeader(ALICE) };
    const up = await call('/v2/alice/private/blobs/uploads/?digest=sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', { method: 'POST', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: '{}' });
    assert.equal(up.status, 201);
    const put = await call('/v2/alice/private/manifests/v1', { method: 'PUT', headers: { ...auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest });
    assert.equal(put.status, 201);
  });
  after(() => reg.stop());

  it('answers who is signed in: nobody without a cookie', async () => {
    const res = await call('/api/v1/session');
    assert.deepEqual(await res.json(), { user: null, csrfToken: null, accessControl: true });
    assert.equal(res.headers.get('cache-control'), 'no-store');
  });

  it('signs in with a password: an HttpOnly, SameSite=Strict cookie for the whole registry', async () => {
    const s = await signIn(ALICE);
    assert.match(s.setCookie, /; HttpOnly/);
    assert.match(s.setCookie, /; SameSite=Strict/);
    assert.match(s.setCookie, /; Path=\//);
    assert.match(s.setCookie, /; Max-Age=(43200|4319\d);/); // 12 h
    assert.doesNotMatch(s.setCookie, /Secure/); // plain HTTP here
    const res = await call('/api/v1/session', { headers: { cookie: s.cookie } });
    assert.deepEqual(await res.json(), { user: { name: 'alice', admin: false, orgs: [] }, csrfToken: s.csrf, accessControl: true });
  });

  it('marks the cookie Secure (and __Host-) behind an HTTPS proxy', async () => {
    const res = await call('/api/v1/session', { method: 'POST', ...json({ username: BOB.user, password: BOB.password }, { 'x-forwarded-proto': 'https' }) });
    assert.equal(res.status, 200);
    const setCookie = res.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^__Host-berth_session=berth_ses_[^;]+; Path=\/; .*; Secure$/);
    // The browser sends it back under that name.
    const cookie = setCookie.split(';')[0] ?? '';
    const who = await call('/api/v1/session', { headers: { cookie } });
    assert.equal(((await who.json()) as { user: { name: string } }).user.name, 'bob');
  });

  it('refuses wrong credentials with a plain 401 and a readable message', async () => {
    const res = await call('/api/v1/session', { method: 'POST', ...json({ username: 'alice', password: 'wrong' }, { 'x-berth-ui': '1' }) });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), null);
    assert.equal(res.headers.get('set-cookie'), null);
    const body = (await res.json()) as { errors: { code: string; message: string }[] };
    assert.deepEqual(body.errors[0], { code: 'UNAUTHORIZED', message: 'Wrong username or password.' });
  });

  it('will not open a session from an access token used as a password', async () => {
    const { secret } = await reg.running.access.accounts.createToken(SYSTEM, 'alice', 'ci', null, null);
    const res = await call('/api/v1/session', { method: 'POST', ...json({ username: 'alice', password: secret }) });
    assert.equal(res.status, 403);
  });

  it('the UI header drops the challenge of any 401, so browsers never open a password dialog', async () => {
    const plain = await call('/api/v1/repositories/alice/private');
    assert.equal(plain.status, 401);
    assert.match(plain.headers.get('www-authenticate') ?? '', /^Bearer /);
    const ui = await call('/api/v1/repositories/alice/private', { headers: { 'x-berth-ui': '1' } });
    assert.equal(ui.status, 401);
    assert.equal(ui.headers.get('www-authenticate'), null);
  });

  it('the cookie opens the JSON API and never the registry API', async () => {
    const s = await signIn(ALICE);
    const repo = await call('/api/v1/repositories/alice/private', { headers: { cookie: s.cookie } });
    assert.equal(repo.status, 200);
    assert.equal(((await repo.json()) as { visibility: string }).visibility, 'private');
    const tags = await call('/v2/alice/private/tags/list', { headers: { cookie: s.cookie } });
    assert.equal(tags.status, 401);
    const token = await call('/auth/token?service=berth&scope=repository:alice/private:pull', { headers: { cookie: s.cookie } });
    const granted = (await token.json()) as { token: string };
    const claims = JSON.parse(Buffer.from(granted.token.split('.')[1] ?? '', 'base64url').toString()) as { sub: string; access: unknown[] };
    assert.equal(claims.sub, '');
    assert.deepEqual(claims.access, []);
  });

  it('changes need the CSRF token and a same-origin Origin; nothing changes without them', async () => {
    const s = await signIn(ALICE);
    const change = (headers: Record<string, string>) =>
      call('/api/v1/repositories/alice/private', { method: 'PATCH', ...json({ visibility: 'public' }, { cookie: s.cookie, ...headers }) });
    const missing = await change({});
    assert.equal(missing.status, 403);
    assert.match(((await missing.json()) as { errors: { message: string }[] }).errors[0]?.message ?? '', /CSRF/);
    assert.equal((await change({ 'x-csrf-token': s.csrf.slice(0, -2) + 'xx' })).status, 403);
    const other = await signIn(BOB);
    assert.equal((await change({ 'x-csrf-token': other.csrf })).status, 403);
    assert.equal((await change({ 'x-csrf-token': s.csrf, origin: 'http://evil.example' })).status, 403);
    const still = await call('/api/v1/repositories/alice/private', { headers: { cookie: s.cookie } });
    assert.equal(((await still.json()) as { visibility: string }).visibility, 'private');
    const ok = await change({ 'x-csrf-token': s.csrf, origin: reg.url });
    assert.equal(ok.status, 200);
    const back = await call('/api/v1/repositories/alice/private', { method: 'PATCH', ...json({ visibility: 'private' }, { cookie: s.cookie, 'x-csrf-token': s.csrf }) });
    assert.equal(back.status, 200);
  });

  it('JSON bodies must say so: a text/plain body (what a cross-site form can send) is refused', async () => {
    const res = await call('/api/v1/repositories/alice/private', {
      method: 'PATCH',
      headers: { authorization: basicHeader(ALICE), 'content-type': 'text/plain' },
      body: JSON.stringify({ visibility: 'public' }),
    });
    assert.equal(res.status, 400);
  });

  it('signing out ends the session (the cookie no longer works anywhere)', async () => {
    const s = await signIn(ALICE);
    const refused = await call('/api/v1/session', { method: 'DELETE', headers: { cookie: s.cookie } });
    assert.equal(refused.status, 403); // no CSRF token: a cross-site page cannot sign you out either
    const out = await call('/api/v1/session', { method: 'DELETE', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie') ?? '', /^berth_session=; .*Max-Age=0/);
    const after = await call('/api/v1/session', { headers: { cookie: s.cookie } });
    assert.equal(((await after.json()) as { user: unknown }).user, null);
    assert.equal((await call('/api/v1/user', { headers: { cookie: s.cookie } })).status, 401);
  });

  it('sessions are listed and revocable like tokens', async () => {
    const s = await signIn(BOB);
    const list = await call('/api/v1/users/bob/tokens', { headers: { cookie: s.cookie } });
    const { tokens } = (await list.json()) as { tokens: { id: string; kind: string; name: string }[] };
    const sessions = tokens.filter((t) => t.kind === 'session');
    assert.ok(sessions.length >= 1);
    assert.match(sessions[0]?.name ?? '', /^web session \(/);
    for (const t of sessions) await call(`/api/v1/users/bob/tokens/${t.id}`, { method: 'DELETE', headers: { authorization: basicHeader(BOB) } });
    assert.equal((await call('/api/v1/user', { headers: { cookie: s.cookie } })).status, 401);
  });

  it('a password change needs the current password, ends other sessions and renews this one', async () => {
    const carol = { user: 'carol', password: 'carol-password-1' };
    await reg.running.access.accounts.createUser(SYSTEM, carol.user, carol.password, false);
    const here = await signIn(carol);
    const elsewhere = await signIn(carol);
    const patch = (body: unknown) => call('/api/v1/users/carol', { method: 'PATCH', ...json(body, { cookie: here.cookie, 'x-csrf-token': here.csrf }) });
    assert.equal((await patch({ password: 'carol-password-2' })).status, 400);
    assert.equal((await patch({ password: 'carol-password-2', currentPassword: 'wrong' })).status, 403);
    const changed = await patch({ password: 'carol-password-2', currentPassword: carol.password });
    assert.equal(changed.status, 200);
    const renewed = (changed.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    assert.match(renewed, /^berth_session=berth_ses_/);
    assert.notEqual(renewed, here.cookie);
    assert.equal((await call('/api/v1/user', { headers: { cookie: here.cookie } })).status, 401);
    assert.equal((await call('/api/v1/user', { headers: { cookie: elsewhere.cookie } })).status, 401);
    const now = await call('/api/v1/session', { headers: { cookie: renewed } });
    const body = (await now.json()) as { user: { name: string }; csrfToken: string };
    assert.equal(body.user.name, 'carol');
    assert.notEqual(body.csrfToken, here.csrf);
  });

  it('signing in again ends the browser\'s previous session', async () => {
    const first = await signIn(ALICE);
    const res = await call('/api/v1/session', { method: 'POST', ...json({ username: BOB.user, password: BOB.password }, { cookie: first.cookie }) });
    assert.equal(res.status, 200);
    assert.equal((await call('/api/v1/user', { headers: { cookie: first.cookie } })).status, 401);
  });

  it('creating an access token from a session asks for the password again', async () => {
    const s = await signIn(ALICE);
    const create = (body: Record<string, unknown>) => call('/api/v1/users/alice/tokens', { method: 'POST', ...json({ name: 'from-web', ...body }, { cookie: s.cookie, 'x-csrf-token': s.csrf }) });
    assert.equal((await create({})).status, 400);
    assert.equal((await create({ currentPassword: 'wrong' })).status, 403);
    const made = await create({ currentPassword: ALICE.password });
    assert.equal(made.status, 201);
    const { secret } = (await made.json()) as { secret: string };
    assert.equal((await call('/v2/alice/private/tags/list', { headers: { authorization: basicHeader({ user: 'alice', password: secret }) } })).status, 200);
    // With Basic credentials (a script, the CLI's way) the password was just given: nothing more to ask.
    assert.equal((await call('/api/v1/users/alice/tokens', { method: 'POST', ...json({ name: 'from-script' }, { authorization: basicHeader(ALICE) }) })).status, 201);
  });

  it('an access token is not the current password', async () => {
    const s = await signIn(BOB);
    const { secret } = await reg.running.access.accounts.createToken(SYSTEM, 'bob', 'ci', null, null);
    const res = await call('/api/v1/users/bob', { method: 'PATCH', ...json({ password: 'bob-password-2', currentPassword: secret }, { cookie: s.cookie, 'x-csrf-token': s.csrf }) });
    assert.equal(res.status, 403);
    assert.equal((await signIn(BOB)).cookie.length > 0, true); // the old password still works
  });

  it('a bearer token changes a repository only within its scopes', async () => {
    const token = async (scope: string) =>
      ((await (await call(`/auth/token?service=berth&scope=${scope}`, { headers: { authorization: basicHeader(ALICE) } })).json()) as { token: string }).token;
    const pull = await token('repository:alice/private:pull');
    const asPull = { authorization: `Bearer ${pull}` };
    const del = await call('/api/v1/repositories/alice/private', { method: 'DELETE', headers: asPull });
    assert.equal(del.status, 401);
    assert.match(del.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
    assert.equal((await call('/api/v1/repositories/alice/private', { method: 'PATCH', ...json({ visibility: 'public' }, asPull) })).status, 401);
    assert.equal((await call('/api/v1/repositories/alice/private', { method: 'PATCH', ...json({ description: 'x' }, asPull) })).status, 401);
    const push = await token('repository:alice/private:pull,push');
    assert.equal((await call('/api/v1/repositories/alice/private', { method: 'PATCH', ...json({ description: 'pushed' }, { authorization: `Bearer ${push}` }) })).status, 200);
    assert.equal((await call('/v2/alice/private/tags/list', { headers: { authorization: basicHeader(ALICE) } })).status, 200);
  });

  it('administration takes a password, an access token or a session, never a bearer token', async () => {
    await reg.running.access.accounts.createUser(SYSTEM, 'boss', 'boss-password-1', true);
    const boss = { user: 'boss', password: 'boss-password-1' };
    const token = ((await (await call('/auth/token?service=berth&scope=repository:boss/x:pull', { headers: { authorization: basicHeader(boss) } })).json()) as { token: string }).token;
    for (const path of ['/api/v1/admin/storage', '/api/v1/events', '/api/v1/mirror']) {
      assert.equal((await call(path, { headers: { authorization: `Bearer ${token}` } })).status, 403, path);
      assert.equal((await call(path, { headers: { authorization: basicHeader(boss) } })).status, 200, path);
    }
    const s = await signIn(boss);
    assert.equal((await call('/api/v1/admin/storage', { headers: { cookie: s.cookie } })).status, 200);
  });

  it('a deleted user has no session left', async () => {
    await reg.running.access.accounts.createUser(SYSTEM, 'dave', 'dave-password-1', false);
    const s = await signIn({ user: 'dave', password: 'dave-password-1' });
    await reg.running.access.accounts.deleteUser(SYSTEM, 'dave');
    assert.equal((await call('/api/v1/user', { headers: { cookie: s.cookie } })).status, 401);
  });
});

describe('web UI on an open registry (no users yet)', () => {
  let reg: AuthRegistry;
  before(async () => {
    reg = await startAuthRegistry({ http: { host: 'https://registry.example.com' } });
    const up = await fetch(`${reg.url}/v2/team/app/blobs/uploads/?digest=sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: '{}',
    });
    assert.equal(up.status, 201);
    const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 }, layers: [] };
    const put = await fetch(`${reg.url}/v2/team/app/manifests/v1`, { method: 'PUT', headers: { 'content-type': manifest.mediaType }, body: JSON.stringify(manifest) });
    assert.equal(put.status, 201);
  });
  after(() => reg.stop());

  it('says so, and nobody can sign in', async () => {
    assert.deepEqual(await (await fetch(`${reg.url}/api/v1/session`)).json(), { user: null, csrfToken: null, accessControl: false });
    const res = await fetch(`${reg.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'x', password: 'y' }) });
    assert.equal(res.status, 405);
  });

  it('refuses changes asked by another site\'s page, before anything happens', async () => {
    const patch = (headers: Record<string, string>) =>
      fetch(`${reg.url}/api/v1/repositories/team/app`, { method: 'PATCH', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ description: 'defaced' }) });
    assert.equal((await patch({ origin: 'https://evil.example' })).status, 403);
    assert.equal((await patch({ 'sec-fetch-site': 'cross-site' })).status, 403);
    assert.equal((await patch({ 'sec-fetch-site': 'same-site' })).status, 403);
    assert.equal((await fetch(`${reg.url}/api/v1/repositories/team/app`, { method: 'DELETE', headers: { origin: 'https://evil.example' } })).status, 403);
    const repo = (await (await fetch(`${reg.url}/api/v1/repositories/team/app`)).json()) as { description: string };
    assert.notEqual(repo.description, 'defaced');
    assert.equal((await patch({ origin: reg.url, 'sec-fetch-site': 'same-origin' })).status, 200);
    assert.equal((await patch({ origin: 'https://registry.example.com' })).status, 200); // http.host
  });

  it('lets anyone see and manage repositories, as the registry API does', async () => {
    const repo = (await (await fetch(`${reg.url}/api/v1/repositories/team/app`)).json()) as { actions: string[] };
    assert.deepEqual(repo.actions, ['pull', 'push', 'delete', 'admin']);
    const patched = await fetch(`${reg.url}/api/v1/repositories/team/app`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ description: 'the app' }) });
    assert.equal(patched.status, 200);
    assert.equal(((await patched.json()) as { description: string }).description, 'the app');
  });
});
