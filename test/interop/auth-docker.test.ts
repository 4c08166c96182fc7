/**
 * Access control with the Docker engine against berth's token flow. `docker login` goes through
 * dockerd, which asks the token server (GET with Basic, offline_token=true, client_id=docker) for a
 * refresh token; the CLI stores it as `identitytoken` in config.json instead of the password, and
 * later pushes and pulls trade it for access tokens (POST, grant_type=refresh_token). The test
 * counts how the server saw the client authenticate, through a wrapper around berth's
 * authenticator. Then `docker logout`, a changed password ending the session, anonymous
 * pulls of a public repository, and `docker login` to distribution's htpasswd mode (Basic).
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeDockerArchive, type BuiltImage } from '../fixtures/oci.ts';
import { headStatus, htpasswdLine, startAuthRegistry, expectAccessControl, type AuthRegistry, type LoginEvent } from '../helpers/auth.ts';
import { dockerdWarnings, startDockerd, stopDockerd, type Daemon } from '../helpers/dockerd.ts';
import { requireTools, run, runOk, tempDir, type RunResult } from '../helpers/process.ts';
import { SYSTEM } from '../../src/auth/principal.ts';

const tools = requireTools('dockerd', 'docker');

const ALICE = { user: 'alice', password: 'alice-password-1' };

interface DockerConfig {
  auths?: Record<string, { auth?: string; identitytoken?: string }>;
  credsStore?: string;
}

/** What docker prints when the registry refuses it (a 401 on pull or push). */
const AUTH_ERROR = /unauthorized|authentication required|pull access denied|may require 'docker login'|denied/i;

describe('docker with accounts (token flow)', { skip: tools.skip }, () => {
  let reg: AuthRegistry;
  let work: string;
  let daemon: Daemon | undefined;
  let image: BuiltImage;
  /** Refresh tokens docker stored, checked against the server log at the end. */
  const secrets: string[] = [];

  const logs = (): string => `--- registry logs (${reg.url}) ---\n${reg.logs().slice(-8000)}\n--- dockerd warnings ---\n${dockerdWarnings(work)}`;
  const dockerEnv = (): Record<string, string> => {
    if (daemon === undefined) throw new Error('dockerd is not running');
    return daemon.env;
  };
  const docker = (...args: string[]): Promise<RunResult> => runOk('docker', args, { env: dockerEnv(), context: logs, timeout: 180_000 });
  const dockerFails = async (...args: string[]): Promise<RunResult> => {
    const result = await run('docker', args, { env: dockerEnv(), timeout: 180_000 });
    assert.notEqual(result.code, 0, `\`docker ${args.join(' ')}\` should have failed\n${result.stdout}\n${logs()}`);
    return result;
  };
  const login = (password: string): Promise<RunResult> =>
    run('docker', ['login', '--username', ALICE.user, '--password-stdin', reg.host], { env: dockerEnv(), input: `${password}\n`, timeout: 60_000 });
  const configText = (): Promise<string> => readFile(join(dockerEnv().DOCKER_CONFIG ?? '', 'config.json'), 'utf8').catch(() => '{}');
  const storedAuth = async (): Promise<{ auth?: string; identitytoken?: string } | undefined> =>
    (JSON.parse(await configText()) as DockerConfig).auths?.[reg.host];
  const imageId = async (ref: string): Promise<string> => {
    const list = JSON.parse((await docker('image', 'inspect', ref)).stdout) as { Id: string }[];
    assert.ok(list[0] !== undefined, `docker image inspect ${ref} returned nothing`);
    return list[0].Id;
  };
  const removeAll = async (): Promise<void> => {
    const ids = (await docker('image', 'ls', '--quiet', '--no-trunc')).stdout.split('\n').filter((l) => l !== '');
    if (ids.length > 0) await docker('image', 'rm', '--force', ...new Set(ids));
  };
  /** Token endpoint requests of the access log since `mark` lines: method and status. */
  const tokenRequests = (mark: number): { method: string; status: number }[] =>
    reg
      .logs()
      .split('\n')
      .slice(mark)
      .filter((l) => l.includes('"route":"token"'))
      .map((l) => JSON.parse(l) as { method: string; status: number });
  const logLines = (): number => reg.logs().split('\n').length - 1;
  const describeLogins = (events: LoginEvent[]): string => events.map((e) => `${e.kind}:${e.user}:${e.ok ? 'ok' : 'failed'}`).join(', ') || '(none)';

  before(async () => {
    tools.check();
    reg = await startAuthRegistry();
    await reg.accounts.createUser(SYSTEM, ALICE.user, ALICE.password);
    await expectAccessControl(reg);
    work = await tempDir('auth-docker');
    daemon = await startDockerd(work, reg.host);
    const archive = join(work, 'image.tar');
    image = await writeDockerArchive(archive, { repoTag: 'berth-fixture/auth:1.0', label: 'auth-docker' });
    await docker('load', '--input', archive);
  });

  after(async () => {
    try {
      const text = reg?.logs() ?? '';
      for (const secret of [ALICE.password, ...secrets]) assert.ok(!text.includes(secret), 'no password or refresh token in the server log');
    } finally {
      if (daemon !== undefined) await stopDockerd(daemon, work);
      await reg?.stop();
      if (work !== undefined) await rm(work, { recursive: true, force: true });
    }
  });

  it('refuses docker login with a wrong password and stores nothing', async () => {
    const result = await login('not-the-password');
    assert.notEqual(result.code, 0, `docker login with a wrong password succeeded\n${result.stdout}`);
    assert.match(result.stderr, /unauthorized|incorrect username or password/i);
    assert.equal(await storedAuth(), undefined);
  });

  it('docker login stores a refresh token (identitytoken), never the password', async () => {
    const first = reg.logins.length;
    const mark = logLines();
    const result = await login(ALICE.password);
    assert.equal(result.code, 0, `docker login failed\n${result.stderr}\n${logs()}`);
    assert.match(result.stdout, /Login Succeeded/);

    const text = await configText();
    const config = JSON.parse(text) as DockerConfig;
    assert.equal(config.credsStore, undefined, 'the test expects credentials in config.json, not in a credential helper');
    const stored = config.auths?.[reg.host];
    assert.match(stored?.identitytoken ?? '', /^berth_rt_/, `config.json: ${text}`);
    secrets.push(stored?.identitytoken ?? '');
    assert.ok(!text.includes(ALICE.password), 'the password is not in config.json');
    if (stored?.auth !== undefined) assert.equal(Buffer.from(stored.auth, 'base64').toString(), `${ALICE.user}:`, 'auth holds the user name only');

    // dockerd logs in with the password once (GET with offline_token=true&client_id=docker) ...
    const events = reg.logins.slice(first);
    assert.deepEqual(events, [{ kind: 'password', user: ALICE.user, ok: true }], describeLogins(events));
    assert.ok(tokenRequests(mark).some((r) => r.status === 200), `token requests: ${JSON.stringify(tokenRequests(mark))}`);
    // ... and berth recorded the refresh token it handed out as alice's docker login session
    const sessions = (await reg.accounts.listTokens(SYSTEM, ALICE.user)).filter((t) => t.kind === 'refresh');
    assert.deepEqual(sessions.map((t) => t.name), ['login (docker)']);
  });

  it('pushes and pulls as the logged-in user with the refresh token (POST grant_type=refresh_token)', async () => {
    /** Runs a docker command; asserts it authenticated only with alice's refresh token, by the OAuth2 POST form. */
    const withRefreshToken = async (...args: string[]): Promise<void> => {
      const first = reg.logins.length;
      const mark = logLines();
      await docker(...args);
      const events = reg.logins.slice(first);
      assert.ok(events.length > 0, `docker ${args[0]} authenticated at the token server`);
      assert.ok(
        events.every((e) => e.kind === 'refresh' && e.user === ALICE.user && e.ok),
        `docker ${args[0]} used alice's refresh token only: ${describeLogins(events)}`,
      );
      const requests = tokenRequests(mark);
      assert.ok(requests.length > 0 && requests.every((r) => r.method === 'POST' && r.status === 200), `token requests: ${JSON.stringify(requests)}`);
    };
    const ref = `${reg.host}/alice/app:1.0`;
    await docker('tag', 'berth-fixture/auth:1.0', ref);
    await withRefreshToken('push', ref);
    assert.equal(await headStatus(reg, 'alice/app', '1.0', ALICE), 200);

    await removeAll();
    await withRefreshToken('pull', ref);
    assert.equal(await imageId(ref), image.configDigest);
  });

  it('docker logout; the private repository no longer pulls', async () => {
    const result = await docker('logout', reg.host);
    assert.match(result.stdout, /Removing login credentials/);
    assert.equal(await storedAuth(), undefined, 'logout removes the entry from config.json');
    await removeAll();
    const pull = await dockerFails('pull', `${reg.host}/alice/app:1.0`);
    assert.match(pull.stderr, AUTH_ERROR);
  });

  it("a changed password ends docker login's session", async () => {
    assert.equal((await login(ALICE.password)).code, 0, logs());
    await docker('pull', `${reg.host}/alice/app:1.0`);
    await removeAll();
    const first = reg.logins.length;
    await reg.accounts.setPassword(SYSTEM, ALICE.user, 'alice-password-2');
    try {
      const pull = await dockerFails('pull', `${reg.host}/alice/app:1.0`);
      assert.match(pull.stderr, AUTH_ERROR);
      assert.ok(reg.logins.slice(first).some((e) => e.kind === 'refresh' && !e.ok), `the revoked refresh token was refused: ${describeLogins(reg.logins.slice(first))}`);
    } finally {
      await reg.accounts.setPassword(SYSTEM, ALICE.user, ALICE.password);
      await docker('logout', reg.host);
    }
  });

  it('pulls a public repository anonymously, and refuses an anonymous push', async () => {
    assert.equal(await storedAuth(), undefined, 'logged out');
    await reg.accounts.setVisibility(SYSTEM, 'alice/app', 'public');
    await removeAll();
    const ref = `${reg.host}/alice/app:1.0`;
    await docker('pull', ref);
    assert.equal(await imageId(ref), image.configDigest);

    await docker('tag', ref, `${reg.host}/alice/app:anon`);
    const push = await dockerFails('push', `${reg.host}/alice/app:anon`);
    assert.match(push.stderr, AUTH_ERROR);
    assert.equal(await headStatus(reg, 'alice/app', 'anon', ALICE), 404);
  });

  it('logs in, pushes and pulls with an htpasswd user (Basic, as with registry:2)', async () => {
    const ci = { user: 'ci', password: 'htpasswd-secret-9' };
    const file = join(work, 'htpasswd');
    await writeFile(file, `${await htpasswdLine(ci.user, ci.password)}\n`);
    const basic = await startAuthRegistry({ auth: { htpasswd: { realm: 'berth-test', path: file } } });
    try {
      const context = (): string => `--- htpasswd registry logs ---\n${basic.logs().slice(-6000)}`;
      const login = await run('docker', ['login', '--username', ci.user, '--password-stdin', basic.host], { env: dockerEnv(), input: `${ci.password}\n` });
      assert.equal(login.code, 0, `docker login failed\n${login.stderr}\n${context()}`);
      const ref = `${basic.host}/team/app:1.0`;
      await docker('load', '--input', join(work, 'image.tar'));
      await docker('tag', 'berth-fixture/auth:1.0', ref);
      await docker('push', ref);
      assert.equal(await headStatus(basic, 'team/app', '1.0', ci), 200);
      await removeAll();
      await docker('pull', ref);
      assert.equal(await imageId(ref), image.configDigest);
      await docker('logout', basic.host);
      await docker('image', 'rm', ref);
      // docker's words for a Basic challenge it has no credentials for (the same with registry:2)
      assert.match((await dockerFails('pull', ref)).stderr, /no basic auth credentials/);
    } finally {
      await basic.stop();
    }
  });
});
