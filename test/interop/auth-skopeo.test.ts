/**
 * Access control with skopeo (containers/image) against berth's token flow: push and pull with
 * --dest-creds/--src-creds, `skopeo login`/`logout` with an auth file, wrong passwords, anonymous
 * pulls of private and public repositories, a pull-only access token, another user's namespace.
 * Then distribution's htpasswd mode: Basic challenges, full rights for its users.
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeSingleArchLayout, type SingleArchLayout } from '../fixtures/oci.ts';
import { basicHeader, type Credentials } from '../helpers/auth-client.ts';
import { headStatus, htpasswdLine, startAuthRegistry, expectAccessControl, type AuthRegistry } from '../helpers/auth.ts';
import { requireTools, run, runOk, tempDir, type RunResult } from '../helpers/process.ts';
import { SYSTEM } from '../../src/auth/principal.ts';

const tools = requireTools('skopeo');

const ALICE = { user: 'alice', password: 'alice-password-1' };
const BOB = { user: 'bob', password: 'bob-password-22' };
const creds = (c: Credentials): string => `${c.user}:${c.password}`;

/** What a client is told when it may not do something: the registry's or containers/image's words for a 401/403. */
const REFUSED = /unauthorized|authentication required|denied|insufficient_scope/i;

/** A bearer token from the token server for `scope`, as `who`. */
async function bearer(reg: AuthRegistry, who: Credentials, scope: string): Promise<string> {
  const res = await fetch(`${reg.url}/auth/token?service=berth&scope=${encodeURIComponent(scope)}`, { headers: { authorization: basicHeader(who) } });
  assert.equal(res.status, 200, `token for ${scope}`);
  return ((await res.json()) as { token: string }).token;
}

describe('skopeo with accounts (token flow)', { skip: tools.skip }, () => {
  let reg: AuthRegistry;
  let work: string;
  let image: SingleArchLayout;
  let env: Record<string, string>;
  /** Token secrets handed out during the tests, checked against the server log at the end. */
  const secrets: string[] = [];

  const logs = (): string => `--- registry logs (${reg.url}) ---\n${reg.logs().slice(-8000)}`;
  const ref = (path: string): string => `docker://${reg.host}/${path}`;
  const skopeo = (...args: string[]): Promise<RunResult> => runOk('skopeo', args, { env, context: logs });
  /** A skopeo command that must fail; returns its output. */
  const refused = async (...args: string[]): Promise<RunResult> => {
    const result = await run('skopeo', args, { env });
    assert.notEqual(result.code, 0, `\`skopeo ${args.join(' ')}\` should have failed\n${result.stdout}\n${logs()}`);
    return result;
  };
  const push = (dest: string, ...flags: string[]): Promise<RunResult> =>
    skopeo('copy', '--dest-tls-verify=false', ...flags, `oci:${image.dir}:1.0`, ref(dest));

  before(async () => {
    tools.check();
    reg = await startAuthRegistry();
    await reg.accounts.createUser(SYSTEM, ALICE.user, ALICE.password);
    await reg.accounts.createUser(SYSTEM, BOB.user, BOB.password);
    await expectAccessControl(reg);
    work = await tempDir('auth-skopeo');
    // An empty auth file of our own: no credentials from the machine's files leak into a test.
    env = { REGISTRY_AUTH_FILE: join(work, 'empty-auth.json') };
    await writeFile(env.REGISTRY_AUTH_FILE ?? '', '{"auths":{}}\n');
    image = await writeSingleArchLayout(join(work, 'image'), { tag: '1.0', label: 'auth-skopeo' });
  });

  after(async () => {
    try {
      const text = reg?.logs() ?? '';
      for (const secret of [ALICE.password, BOB.password, ...secrets]) assert.ok(!text.includes(secret), 'no password or token secret in the server log');
    } finally {
      await reg?.stop();
      if (work !== undefined) await rm(work, { recursive: true, force: true });
    }
  });

  it('challenges an anonymous /v2/ with the token server as realm', async () => {
    const res = await fetch(`${reg.url}/v2/`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), `Bearer realm="${reg.url}/auth/token",service="berth"`);
  });

  it('pushes with --dest-creds and pulls back with --src-creds', async () => {
    await push('alice/app:1.0', '--dest-creds', creds(ALICE));
    assert.equal(await headStatus(reg, 'alice/app', '1.0', ALICE), 200);
    assert.ok(reg.logins.some((l) => l.kind === 'password' && l.user === 'alice' && l.ok), 'skopeo logged in at the token server');

    const back = join(work, 'back');
    await skopeo('copy', '--src-tls-verify=false', '--src-creds', creds(ALICE), ref('alice/app:1.0'), `oci:${back}:copied`);
    const index = JSON.parse(await readFile(join(back, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    assert.equal(index.manifests[0]?.digest, image.image.manifestDigest);
  });

  it("mounts a layer from the user's own repository, never from another user's private one", async () => {
    // skopeo asks for pull on the source along with push on the destination, and mounts
    const copy = await skopeo('--debug', 'copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--src-creds', creds(ALICE), '--dest-creds', creds(ALICE),
      ref('alice/app:1.0'), ref('alice/copy:1.0'));
    assert.ok(copy.stderr.split('\n').some((l) => l.includes('mount OK')), `skopeo mounted a layer from alice/app\n${logs()}`);

    // bob knows the digest of a layer of alice's private image: no mount, with `from` or without, hands it to him
    const layer = image.image.layerDigests[0] ?? '';
    const bob = await bearer(reg, BOB, 'repository:bob/x:pull,push');
    for (const query of [`mount=${layer}&from=alice/app`, `mount=${layer}`]) {
      const res = await fetch(`${reg.url}/v2/bob/x/blobs/uploads/?${query}`, { method: 'POST', headers: { authorization: `Bearer ${bob}` } });
      await res.arrayBuffer();
      assert.equal(res.status, 202, `POST ?${query} starts a plain upload instead of mounting`);
      const get = await fetch(`${reg.url}/v2/bob/x/blobs/${layer}`, { headers: { authorization: `Bearer ${bob}` } });
      await get.arrayBuffer();
      assert.equal(get.status, 404, `after POST ?${query}, bob/x does not hold alice's layer`);
    }
  });

  it('refuses a wrong password with an unauthorized message', async () => {
    const before = reg.logins.length;
    const result = await refused('inspect', '--tls-verify=false', '--creds', `${ALICE.user}:not-the-password`, ref('alice/app:1.0'));
    assert.match(result.stderr, /unauthorized|invalid username\/password/i);
    assert.ok(reg.logins.slice(before).some((l) => l.user === 'alice' && !l.ok), 'the server saw a failed login');
  });

  it('logs in and out with skopeo login/logout and an auth file', async () => {
    const authfile = join(work, 'login-auth.json');
    const login = await runOk('skopeo', ['login', '--tls-verify=false', '--authfile', authfile, '--username', ALICE.user, '--password-stdin', reg.host], {
      env,
      input: `${ALICE.password}\n`,
      context: logs,
    });
    assert.match(login.stdout, /Login Succeeded/);
    const stored = JSON.parse(await readFile(authfile, 'utf8')) as { auths: Record<string, { auth?: string }> };
    assert.equal(Buffer.from(stored.auths[reg.host]?.auth ?? '', 'base64').toString(), creds(ALICE));

    const info = JSON.parse((await skopeo('inspect', '--tls-verify=false', '--authfile', authfile, ref('alice/app:1.0'))).stdout) as { Digest: string };
    assert.equal(info.Digest, image.image.manifestDigest);

    await skopeo('logout', '--authfile', authfile, reg.host);
    const after = JSON.parse(await readFile(authfile, 'utf8')) as { auths: Record<string, unknown> };
    assert.equal(after.auths[reg.host], undefined, 'logout removes the credentials');
    const denied = await refused('inspect', '--tls-verify=false', '--authfile', authfile, ref('alice/app:1.0'));
    assert.match(denied.stderr, REFUSED);
  });

  it('refuses skopeo login with a wrong password', async () => {
    const authfile = join(work, 'bad-login-auth.json');
    const result = await run('skopeo', ['login', '--tls-verify=false', '--authfile', authfile, '--username', ALICE.user, '--password-stdin', reg.host], {
      env,
      input: 'wrong-password\n',
    });
    assert.notEqual(result.code, 0, `skopeo login with a wrong password succeeded\n${result.stdout}`);
    assert.match(result.stderr, /unauthorized|invalid username\/password/i);
    const stored = await readFile(authfile, 'utf8').catch(() => '{"auths":{}}');
    assert.equal((JSON.parse(stored) as { auths?: Record<string, unknown> }).auths?.[reg.host], undefined, 'nothing stored');
  });

  it('refuses an anonymous pull of a private repository', async () => {
    const result = await refused('inspect', '--tls-verify=false', '--no-creds', ref('alice/app:1.0'));
    assert.match(result.stderr, REFUSED);
    const copy = await refused('copy', '--src-tls-verify=false', '--src-no-creds', ref('alice/app:1.0'), `oci:${join(work, 'anon')}:x`);
    assert.match(copy.stderr, REFUSED);
  });

  it('lets anyone pull a public repository (--src-no-creds)', async () => {
    await push('alice/pub:1.0', '--dest-creds', creds(ALICE));
    await reg.accounts.setVisibility(SYSTEM, 'alice/pub', 'public');
    const back = join(work, 'public');
    await skopeo('copy', '--src-tls-verify=false', '--src-no-creds', ref('alice/pub:1.0'), `oci:${back}:pub`);
    const index = JSON.parse(await readFile(join(back, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    assert.equal(index.manifests[0]?.digest, image.image.manifestDigest);
    // but nobody pushes anonymously, not even to a public repository
    const anonPush = await refused('copy', '--dest-tls-verify=false', '--dest-no-creds', `oci:${image.dir}:1.0`, ref('alice/pub:anon'));
    assert.match(anonPush.stderr, REFUSED);
    assert.equal(await headStatus(reg, 'alice/pub', 'anon', ALICE), 404);
  });

  it('a pull-only access token used as a password pulls but does not push', async () => {
    const { secret } = await reg.accounts.createToken(SYSTEM, ALICE.user, 'ci', ['repository:alice/app:pull'], null);
    secrets.push(secret);
    const token = { user: ALICE.user, password: secret };
    const info = JSON.parse((await skopeo('inspect', '--tls-verify=false', '--creds', creds(token), ref('alice/app:1.0'))).stdout) as { Digest: string };
    assert.equal(info.Digest, image.image.manifestDigest);

    const result = await refused('copy', '--dest-tls-verify=false', '--dest-creds', creds(token), `oci:${image.dir}:1.0`, ref('alice/app:from-token'));
    assert.match(result.stderr, REFUSED);
    assert.equal(await headStatus(reg, 'alice/app', 'from-token', ALICE), 404);
    // nor does it open another repository of the same user
    const other = await refused('inspect', '--tls-verify=false', '--creds', creds(token), ref('alice/pub-private:1.0'));
    assert.match(other.stderr, REFUSED);
  });

  it("refuses alice's push into bob's namespace", async () => {
    const result = await refused('copy', '--dest-tls-verify=false', '--dest-creds', creds(ALICE), `oci:${image.dir}:1.0`, ref('bob/x:1.0'));
    assert.match(result.stderr, REFUSED);
    assert.equal(await headStatus(reg, 'bob/x', '1.0', BOB), 404, 'nothing was pushed');
  });

  it("refuses bob's inspect of alice's private repository", async () => {
    const result = await refused('inspect', '--tls-verify=false', '--creds', creds(BOB), ref('alice/app:1.0'));
    assert.match(result.stderr, REFUSED);
    // and bob may read what is public
    const info = JSON.parse((await skopeo('inspect', '--tls-verify=false', '--creds', creds(BOB), ref('alice/pub:1.0'))).stdout) as { Digest: string };
    assert.equal(info.Digest, image.image.manifestDigest);
  });

  it('lists tags and deletes (scope *) as the owner; another user may do neither', async () => {
    await push('alice/del:1.0', '--dest-creds', creds(ALICE));
    const listed = JSON.parse((await skopeo('list-tags', '--tls-verify=false', '--creds', creds(ALICE), ref('alice/del'))).stdout) as { Tags: string[] };
    assert.deepEqual(listed.Tags, ['1.0']);
    assert.match((await refused('list-tags', '--tls-verify=false', '--creds', creds(BOB), ref('alice/del'))).stderr, REFUSED);

    assert.match((await refused('delete', '--tls-verify=false', '--creds', creds(BOB), ref('alice/del:1.0'))).stderr, REFUSED);
    assert.equal(await headStatus(reg, 'alice/del', '1.0', ALICE), 200, "bob's delete left the tag");
    await skopeo('delete', '--tls-verify=false', '--creds', creds(ALICE), ref('alice/del:1.0'));
    assert.equal(await headStatus(reg, 'alice/del', '1.0', ALICE), 404);
  });
});

describe('skopeo with distribution htpasswd auth', { skip: tools.skip }, () => {
  const USER = { user: 'ci', password: 'htpasswd-secret-9' };
  let reg: AuthRegistry;
  let work: string;
  let image: SingleArchLayout;
  let env: Record<string, string>;

  const logs = (): string => `--- registry logs (${reg.url}) ---\n${reg.logs().slice(-8000)}`;
  const ref = (path: string): string => `docker://${reg.host}/${path}`;

  before(async () => {
    tools.check();
    work = await tempDir('auth-htpasswd');
    const file = join(work, 'htpasswd');
    await writeFile(file, `${await htpasswdLine(USER.user, USER.password)}\n`);
    reg = await startAuthRegistry({ auth: { htpasswd: { realm: 'berth-test', path: file } } });
    env = { REGISTRY_AUTH_FILE: join(work, 'empty-auth.json') };
    await writeFile(env.REGISTRY_AUTH_FILE ?? '', '{"auths":{}}\n');
    image = await writeSingleArchLayout(join(work, 'image'), { tag: '1.0', label: 'auth-htpasswd' });
  });

  after(async () => {
    await reg?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('challenges with Basic and the configured realm', async () => {
    assert.equal(await expectAccessControl(reg), 'Basic realm="berth-test"');
    const res = await fetch(`${reg.url}/v2/anything/manifests/latest`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Basic realm="berth-test"');
  });

  it('pushes, inspects and pulls with the htpasswd user', async () => {
    await runOk('skopeo', ['copy', '--dest-tls-verify=false', '--dest-creds', creds(USER), `oci:${image.dir}:1.0`, ref('team/tool:1.0')], { env, context: logs });
    const info = JSON.parse(
      (await runOk('skopeo', ['inspect', '--tls-verify=false', '--creds', creds(USER), ref('team/tool:1.0')], { env, context: logs })).stdout,
    ) as { Digest: string };
    assert.equal(info.Digest, image.image.manifestDigest);
    const back = join(work, 'back');
    await runOk('skopeo', ['copy', '--src-tls-verify=false', '--src-creds', creds(USER), ref('team/tool:1.0'), `oci:${back}:x`], { env, context: logs });
    assert.ok(reg.logins.some((l) => l.user === USER.user && l.ok));
  });

  it('refuses a client without credentials or with a wrong password (401)', async () => {
    const anonymous = await run('skopeo', ['inspect', '--tls-verify=false', '--no-creds', ref('team/tool:1.0')], { env });
    assert.notEqual(anonymous.code, 0, 'an anonymous inspect succeeded');
    assert.match(anonymous.stderr, /unauthorized|authentication required|401/i);
    const wrong = await run('skopeo', ['inspect', '--tls-verify=false', '--creds', `${USER.user}:wrong-password`, ref('team/tool:1.0')], { env });
    assert.notEqual(wrong.code, 0, 'an inspect with a wrong password succeeded');
    assert.match(wrong.stderr, /unauthorized|authentication required|401/i);
  });
});
