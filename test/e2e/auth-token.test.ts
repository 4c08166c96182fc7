/**
 * The token server and the challenge flow over real HTTP: scopes and their intersection with the
 * caller's rights, refresh tokens (docker login's identity token), the OAuth2 POST form, access
 * tokens as passwords, tampered and foreign tokens, quotas and default visibility, htpasswd.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hash } from 'bcryptjs';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';
import { AuthClient, basicHeader, parseChallenge } from '../helpers/auth-client.ts';
import { SYSTEM } from '../../src/auth/principal.ts';
import { pino } from 'pino';
import { configSchema } from '../../src/config/schema.ts';
import { startRegistry } from '../../src/main.ts';

const PASSWORD = 'alice-password-1';
const alice = { user: 'alice', password: PASSWORD };

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

function claims(token: string): { sub: string; access: { type: string; name: string; actions: string[] }[] } {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as never;
}

describe('token server', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startTestRegistry({ storage: 'inmemory' });
    const { accounts } = reg.running.access;
    await accounts.createUser(SYSTEM, 'alice', PASSWORD);
    await accounts.createUser(SYSTEM, 'bob', 'bob-password-1');
    const client = new AuthClient(reg.url, alice);
    await client.pushImage('alice/app', 'latest');
    await client.pushImage('alice/public', 'latest');
    await accounts.setVisibility(SYSTEM, 'alice/public', 'public');
  });
  after(() => reg.stop());

  const token = (query: string, headers: Record<string, string> = {}) => fetch(`${reg.url}/auth/token?service=berth&${query}`, { headers });

  it('challenges /v2/ with the realm and service a client needs', async () => {
    const res = await fetch(`${reg.url}/v2/`);
    assert.equal(res.status, 401);
    const c = parseChallenge(res.headers.get('www-authenticate'));
    assert.equal(c?.scheme, 'bearer');
    assert.equal(c?.params['realm'], `${reg.url}/auth/token`);
    assert.equal(c?.params['service'], 'berth');
    assert.equal((await json(res))['errors'] instanceof Array, true);
    const ok = await fetch(`${reg.url}/v2/`, { headers: { authorization: basicHeader(alice) } });
    assert.equal(ok.status, 200);
  });

  it('names the scope to ask for in a repository challenge', async () => {
    const res = await fetch(`${reg.url}/v2/alice/app/blobs/uploads/`, { method: 'POST' });
    assert.equal(res.status, 401);
    assert.equal(parseChallenge(res.headers.get('www-authenticate'))?.params['scope'], 'repository:alice/app:pull,push');
  });

  it('grants the intersection of what is asked and what the caller may do, over several scope params', async () => {
    const res = await token('scope=repository:alice/app:pull,push,delete&scope=repository:bob/x:pull,push&scope=repository:alice/public:pull', {
      authorization: basicHeader({ user: 'bob', password: 'bob-password-1' }),
    });
    assert.equal(res.status, 200);
    const body = await json(res);
    assert.equal(body['token'], body['access_token']);
    assert.equal(body['expires_in'], 300);
    assert.ok(!Number.isNaN(Date.parse(String(body['issued_at']))));
    assert.equal(body['refresh_token'], undefined, 'no refresh token unless offline_token=true');
    const c = claims(String(body['token']));
    assert.equal(c.sub, 'bob');
    assert.deepEqual(c.access, [
      { type: 'repository', name: 'bob/x', actions: ['pull', 'push'] },
      { type: 'repository', name: 'alice/public', actions: ['pull'] },
    ]);
  });

  it('gives anonymous callers tokens for public pulls only', async () => {
    const body = await json(await token('scope=repository:alice/public:pull,push&scope=repository:alice/app:pull'));
    const c = claims(String(body['token']));
    assert.equal(c.sub, '');
    assert.deepEqual(c.access, [{ type: 'repository', name: 'alice/public', actions: ['pull'] }]);
  });

  it('refuses wrong passwords, unknown users, a mismatching account, bad scopes and other services', async () => {
    for (const h of [basicHeader({ user: 'alice', password: 'wrong' }), basicHeader({ user: 'nobody', password: 'x' }), 'Basic !!!']) {
      const res = await token('scope=repository:alice/app:pull', { authorization: h });
      assert.equal(res.status, 401);
      assert.equal(((await json(res))['errors'] as { code: string }[])[0]?.code, 'UNAUTHORIZED');
    }
    assert.equal((await token('account=bob&scope=repository:alice/app:pull', { authorization: basicHeader(alice) })).status, 401);
    for (const q of ['scope=repository:../etc:pull', 'scope=repository:*:pull', 'scope=garbage']) {
      const res = await token(q);
      assert.equal(res.status, 400, q);
      assert.equal(((await json(res))['errors'] as { code: string }[])[0]?.code, 'REQUEST_INVALID');
    }
    const other = await fetch(`${reg.url}/auth/token?service=elsewhere`);
    assert.equal(other.status, 400);
    const metrics = await (await fetch(`${reg.url}/metrics`)).text();
    const failures = Number(/^berth_auth_failures_total (\d+)/m.exec(metrics)?.[1]);
    assert.ok(failures >= 4, `berth_auth_failures_total ${failures}`);
  });

  it('hands out a refresh token with offline_token=true, and the POST form accepts it (docker login)', async () => {
    const first = await json(await token('offline_token=true&client_id=docker&scope=repository:alice/app:pull', { authorization: basicHeader(alice) }));
    const refresh = String(first['refresh_token']);
    assert.match(refresh, /^berth_rt_/);
    const form = (fields: Record<string, string>) =>
      fetch(`${reg.url}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
    const res = await form({ grant_type: 'refresh_token', refresh_token: refresh, service: 'berth', client_id: 'docker', scope: 'repository:alice/app:pull,push' });
    assert.equal(res.status, 200);
    const body = await json(res);
    assert.equal(body['scope'], 'repository:alice/app:pull,push');
    assert.equal(body['refresh_token'], refresh);
    assert.equal(claims(String(body['access_token'])).sub, 'alice');

    const pw = await json(await form({ grant_type: 'password', username: 'alice', password: PASSWORD, access_type: 'offline', service: 'berth', client_id: 'x' }));
    assert.match(String(pw['refresh_token']), /^berth_rt_/);
    assert.equal((await form({ grant_type: 'password', username: 'alice', password: 'nope', service: 'berth' })).status, 401);
    assert.equal((await form({ grant_type: 'refresh_token', refresh_token: 'berth_rt_forged', service: 'berth' })).status, 401);
    assert.equal((await form({ grant_type: 'client_credentials' })).status, 400);

    // A password change ends every login session.
    await reg.running.access.accounts.setPassword(SYSTEM, 'alice', PASSWORD);
    assert.equal((await form({ grant_type: 'refresh_token', refresh_token: refresh, service: 'berth' })).status, 401);
  });

  it('refuses tampered and foreign bearer tokens, and a token for one repository never opens another', async () => {
    const body = await json(await token('scope=repository:alice/app:pull', { authorization: basicHeader(alice) }));
    const good = String(body['token']);
    const ok = await fetch(`${reg.url}/v2/alice/app/tags/list`, { headers: { authorization: `Bearer ${good}` } });
    assert.equal(ok.status, 200);
    const [h, , s] = good.split('.');
    const widened = `${h}.${Buffer.from(JSON.stringify({ ...claims(good), access: [{ type: 'repository', name: 'alice/app', actions: ['pull', 'push', 'delete'] }] })).toString('base64url')}.${s}`;
    const bad = await fetch(`${reg.url}/v2/alice/app/blobs/uploads/`, { method: 'POST', headers: { authorization: `Bearer ${widened}` } });
    assert.equal(bad.status, 401);
    assert.equal(parseChallenge(bad.headers.get('www-authenticate'))?.params['error'], 'invalid_token');
    const elsewhere = await fetch(`${reg.url}/v2/bob/app/tags/list`, { headers: { authorization: `Bearer ${good}` } });
    assert.equal(elsewhere.status, 401);
    assert.equal(parseChallenge(elsewhere.headers.get('www-authenticate'))?.params['error'], 'insufficient_scope');
    const push = await fetch(`${reg.url}/v2/alice/app/blobs/uploads/`, { method: 'POST', headers: { authorization: `Bearer ${good}` } });
    assert.equal(push.status, 401, 'a pull token does not push');
  });

  it('accepts an access token as a password: scoped, tied to its user, revocable, expiring', async () => {
    const { accounts } = reg.running.access;
    const { secret, token: record } = await accounts.createToken(SYSTEM, 'alice', 'ci', ['repository:alice/app:pull'], null);
    assert.match(secret, /^berth_pat_/);
    const as = (user: string, password: string) => ({ authorization: basicHeader({ user, password }) });
    assert.equal((await fetch(`${reg.url}/v2/alice/app/tags/list`, { headers: as('alice', secret) })).status, 200);
    assert.equal((await fetch(`${reg.url}/v2/alice/app/blobs/uploads/`, { method: 'POST', headers: as('alice', secret) })).status, 403, 'pull only');
    assert.equal((await fetch(`${reg.url}/v2/alice/app/tags/list`, { headers: as('bob', secret) })).status, 401, 'the token names its user');
    const granted = claims(String((await json(await token('scope=repository:alice/app:pull,push', as('alice', secret))))['token']));
    assert.deepEqual(granted.access, [{ type: 'repository', name: 'alice/app', actions: ['pull'] }]);
    await accounts.revokeToken(SYSTEM, 'alice', record.id);
    assert.equal((await fetch(`${reg.url}/v2/alice/app/tags/list`, { headers: as('alice', secret) })).status, 401, 'revoked');
    const expiring = await accounts.createToken(SYSTEM, 'alice', 'soon', null, Date.now() + 300);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal((await fetch(`${reg.url}/v2/alice/app/tags/list`, { headers: as('alice', expiring.secret) })).status, 401, 'expired');
  });

  it('publishes the public keys as a JWKS', async () => {
    const jwks = await json(await fetch(`${reg.url}/auth/jwks.json`));
    const keys = jwks['keys'] as Record<string, string>[];
    assert.equal(keys.length, 1);
    assert.equal(keys[0]?.['kty'], 'EC');
    assert.equal(keys[0]?.['d'], undefined);
  });

  it('keeps notification status for administrators', async () => {
    assert.equal((await fetch(`${reg.url}/api/v1/events`, { headers: { authorization: basicHeader(alice) } })).status, 403);
    assert.equal((await fetch(`${reg.url}/api/v1/events`)).status, 401);
  });
});

describe('access settings', () => {
  it('limits private repositories per namespace with a clear DENIED, and honours a public default', async () => {
    const reg = await startTestRegistry({ storage: 'inmemory', config: { access: { maxprivaterepos: 1 } } });
    try {
      const { accounts } = reg.running.access;
      await accounts.createUser(SYSTEM, 'alice', PASSWORD);
      const client = new AuthClient(reg.url, alice, 'basic');
      await client.pushImage('alice/one', 'latest');
      const res = await client.fetch('/v2/alice/two/blobs/uploads/', { method: 'POST' });
      assert.equal(res.status, 403);
      const body = await json(res);
      const [error] = body['errors'] as { code: string; message: string }[];
      assert.equal(error?.code, 'DENIED');
      assert.match(error?.message ?? '', /already has 1 private repositories.*maxprivaterepos/);
      await accounts.setVisibility(SYSTEM, 'alice/one', 'public');
      await client.pushImage('alice/two', 'latest');
      await assert.rejects(accounts.setVisibility(SYSTEM, 'alice/one', 'private'), /private repositories/);
    } finally {
      await reg.stop();
    }
    const open = await startTestRegistry({ storage: 'inmemory', config: { access: { defaultvisibility: 'public' } } });
    try {
      await open.running.access.accounts.createUser(SYSTEM, 'alice', PASSWORD);
      await new AuthClient(open.url, alice).pushImage('alice/shared', 'latest');
      const anonymous = new AuthClient(open.url, undefined);
      const res = await anonymous.fetch('/v2/alice/shared/manifests/latest', { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
      assert.equal(res.status, 200);
    } finally {
      await open.stop();
    }
  });
});

describe('htpasswd (distribution drop-in)', () => {
  it('challenges with Basic, lets htpasswd users do everything, and reloads the file when it changes', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-htpasswd-'));
    const file = path.join(dir, 'htpasswd');
    await fs.writeFile(file, `admin:${(await hash('secret-one', 5)).replace('$2b$', '$2y$')}\n`);
    const reg = await startTestRegistry({ storage: 'inmemory', config: { auth: { htpasswd: { realm: 'my realm', path: file } } } });
    try {
      const res = await fetch(`${reg.url}/v2/`);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Basic realm="my realm"');
      const admin = new AuthClient(reg.url, { user: 'admin', password: 'secret-one' }, 'basic');
      await admin.pushImage('anyone/anything', 'v1');
      assert.equal((await new AuthClient(reg.url, { user: 'admin', password: 'wrong' }, 'basic').fetch('/v2/')).status, 401);
      await fs.writeFile(file, `admin:${await hash('secret-one', 5)}\nci:${await hash('secret-two', 5)}\n`);
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal((await new AuthClient(reg.url, { user: 'ci', password: 'secret-two' }, 'basic').fetch('/v2/anyone/anything/tags/list')).status, 200);
    } finally {
      await reg.stop();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('secrets in logs', () => {
  it('never writes a password, access token or refresh token to a log line', async () => {
    let logs = '';
    const log = pino({ level: 'debug' }, { write: (line: string) => void (logs += line) });
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-logs-'));
    const config = configSchema.parse({ http: { addr: '127.0.0.1:0' }, log: { level: 'debug' }, storage: { filesystem: { rootdirectory: root } } });
    const running = await startRegistry(config, log);
    const url = `http://127.0.0.1:${running.address.port}`;
    try {
      const { accounts } = running.access;
      await accounts.createUser(SYSTEM, 'alice', PASSWORD);
      const pat = await accounts.createToken(SYSTEM, 'alice', 'ci', null, null);
      await new AuthClient(url, alice).pushImage('alice/app', 'latest');
      await new AuthClient(url, { user: 'alice', password: 'wrong-guess-123' }).fetch('/v2/alice/app/tags/list');
      await new AuthClient(url, { user: 'alice', password: pat.secret }, 'basic').fetch('/v2/alice/app/tags/list');
      const body = await json(await fetch(`${url}/auth/token?service=berth&offline_token=true`, { headers: { authorization: basicHeader(alice) } }));
      await fetch(`${url}/v2/alice/app/tags/list?x=1`, { headers: { authorization: `Bearer ${String(body['token'])}` } });
      assert.match(logs, /login failed/, 'the failure itself is logged');
      for (const secret of [PASSWORD, 'wrong-guess-123', pat.secret, String(body['refresh_token']), String(body['token'])]) {
        assert.ok(!logs.includes(secret), `a secret reached the log: ${secret.slice(0, 12)}...`);
        assert.ok(!logs.includes(Buffer.from(`alice:${secret}`).toString('base64')), 'Basic credentials reached the log');
      }
    } finally {
      await running.close(1000);
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});

describe('account safety', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startTestRegistry({ storage: 'inmemory' });
    const { accounts } = reg.running.access;
    await accounts.createUser(SYSTEM, 'boss', 'boss-password-1', true);
    await accounts.createUser(SYSTEM, 'alice', PASSWORD);
    await accounts.createUser(SYSTEM, 'bob', 'bob-password-1');
  });
  after(() => reg.stop());

  const token = (query: string, headers: Record<string, string> = {}) => fetch(`${reg.url}/auth/token?service=berth&${query}`, { headers });
  const api = (path: string, method: string, auth: string, body?: unknown) =>
    fetch(`${reg.url}${path}`, { method, headers: { authorization: auth, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

  it('lets an access token read, but never mint tokens or change its owner’s password', async () => {
    const { secret } = await reg.running.access.accounts.createToken(SYSTEM, 'alice', 'robot', null, Date.now() + 3_600_000);
    const asToken = basicHeader({ user: 'alice', password: secret });
    assert.equal((await api('/api/v1/user', 'GET', asToken)).status, 200);
    assert.equal((await api('/api/v1/users/alice/tokens', 'POST', asToken, { name: 'forever' })).status, 403);
    assert.equal((await api('/api/v1/users/alice', 'PATCH', asToken, { password: 'taken-over-123' })).status, 403);
    const bearer = String((await json(await token('', { authorization: asToken })))['token']);
    assert.equal((await api('/api/v1/users/alice/tokens', 'POST', `Bearer ${bearer}`, { name: 'forever' })).status, 403);
    assert.equal((await api('/api/v1/users/alice/tokens', 'POST', basicHeader(alice), { name: 'by password' })).status, 201);
  });

  it('does not let a user take over a namespace that holds repositories by naming an organisation after it', async () => {
    await new AuthClient(reg.url, { user: 'bob', password: 'bob-password-1' }).pushImage('bob/secret', 'latest');
    await reg.running.access.accounts.deleteUser(SYSTEM, 'bob');
    const res = await api('/api/v1/orgs', 'POST', basicHeader(alice), { name: 'bob' });
    assert.equal(res.status, 409, 'answered as a taken name: no oracle for private namespaces');
    assert.match(await res.text(), /is taken/);
    const pull = await new AuthClient(reg.url, alice, 'basic').fetch('/v2/bob/secret/tags/list');
    assert.equal(pull.status, 403);
    assert.equal((await api('/api/v1/orgs', 'POST', basicHeader({ user: 'boss', password: 'boss-password-1' }), { name: 'bob', owner: 'alice' })).status, 201, 'an admin may');
  });

  it('refuses logins at once with 429 after repeated failures from one address, and not elsewhere', async () => {
    const guess = (password: string) => token('scope=repository:alice/app:pull', { authorization: basicHeader({ user: 'alice', password }) });
    for (let i = 0; i < 6; i++) assert.equal((await guess(`wrong-${i}`)).status, 401);
    const locked = await guess(PASSWORD);
    assert.equal(locked.status, 429, 'even the right password waits out the lock');
    assert.ok(Number(locked.headers.get('retry-after')) >= 1);
    assert.equal(((await json(locked))['errors'] as { code: string }[])[0]?.code, 'TOOMANYREQUESTS');
    const bob = await token('', { authorization: basicHeader({ user: 'boss', password: 'boss-password-1' }) });
    assert.equal(bob.status, 200, 'another user at the same address is not locked by alice’s failures');
  });
});
