/**
 * Access control with podman against berth's token flow: `podman login` with an auth file of its
 * own (wrong password first), push and pull as the logged-in user, `podman logout`, after which
 * the private repository no longer pulls; an anonymous pull of a public repository. Podman runs
 * in a sandbox of its own (test/helpers/podman.ts: vfs storage, its own config and auth files).
 */
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeSingleArchLayout, type SingleArchLayout } from '../fixtures/oci.ts';
import { headStatus, startAuthRegistry, expectAccessControl, type AuthRegistry } from '../helpers/auth.ts';
import { podmanSandbox } from '../helpers/podman.ts';
import { requireTools, run, runOk, tempDir, type RunResult } from '../helpers/process.ts';
import { SYSTEM } from '../../src/auth/principal.ts';

const tools = requireTools('podman');

const ALICE = { user: 'alice', password: 'alice-password-1' };

interface AuthFile {
  auths?: Record<string, { auth?: string }>;
}

describe('podman with accounts (token flow)', { skip: tools.skip }, () => {
  let reg: AuthRegistry;
  let work: string;
  let image: SingleArchLayout;
  let env: Record<string, string>;
  let globals: string[] | undefined;
  let authfile: string;

  const logs = (): string => `--- registry logs (${reg.url}) ---\n${reg.logs().slice(-8000)}`;
  const podman = (...args: string[]): Promise<RunResult> => runOk('podman', [...(globals ?? []), ...args], { env, context: logs });
  const podmanFails = async (...args: string[]): Promise<RunResult> => {
    const result = await run('podman', [...(globals ?? []), ...args], { env });
    assert.notEqual(result.code, 0, `\`podman ${args.join(' ')}\` should have failed\n${result.stdout}\n${logs()}`);
    return result;
  };
  const login = (password: string): Promise<RunResult> =>
    run('podman', [...(globals ?? []), 'login', '--tls-verify=false', '--authfile', authfile, '--username', ALICE.user, '--password-stdin', reg.host], {
      env,
      input: `${password}\n`,
    });
  const storedAuths = async (): Promise<Record<string, { auth?: string }>> =>
    ((JSON.parse(await readFile(authfile, 'utf8')) as AuthFile).auths ?? {});
  const imageId = async (ref: string): Promise<string> => {
    const list = JSON.parse((await podman('image', 'inspect', ref)).stdout) as { Id: string }[];
    assert.ok(list[0] !== undefined, `podman image inspect ${ref} returned nothing`);
    return list[0].Id;
  };

  before(async () => {
    tools.check();
    reg = await startAuthRegistry();
    await reg.accounts.createUser(SYSTEM, ALICE.user, ALICE.password);
    await expectAccessControl(reg);
    work = await tempDir('auth-podman');
    // podman login writes the sandbox's auth file, and every other command reads its credentials from there only
    ({ env, globals, authfile } = await podmanSandbox(work, reg.host));
    image = await writeSingleArchLayout(join(work, 'image'), { tag: 'v1', label: 'auth-podman' });
    await podman('pull', `oci:${image.dir}:v1`);
  });

  after(async () => {
    if (globals !== undefined) await podman('rmi', '--all', '--force').catch(() => undefined);
    await reg?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('refuses podman login with a wrong password and stores nothing', async () => {
    const result = await login('not-the-password');
    assert.notEqual(result.code, 0, `podman login with a wrong password succeeded\n${result.stdout}`);
    assert.match(result.stderr, /invalid username\/password|unauthorized/i);
    assert.equal((await storedAuths())[reg.host], undefined);
    assert.ok(reg.logins.some((l) => l.user === ALICE.user && !l.ok), 'the server saw the failed login');
  });

  it('logs in, pushes and pulls back as the logged-in user', async () => {
    const result = await login(ALICE.password);
    assert.equal(result.code, 0, `podman login failed\n${result.stderr}\n${logs()}`);
    assert.match(result.stdout, /Login Succeeded/);
    assert.equal(Buffer.from((await storedAuths())[reg.host]?.auth ?? '', 'base64').toString(), `${ALICE.user}:${ALICE.password}`);

    const ref = `${reg.host}/alice/tool:v1`;
    const id = image.image.configDigest.slice('sha256:'.length);
    await podman('tag', id, ref);
    const digestFile = join(work, 'push.digest');
    await podman('push', '--tls-verify=false', '--digestfile', digestFile, ref);
    const pushed = (await readFile(digestFile, 'utf8')).trim();
    assert.equal(await headStatus(reg, 'alice/tool', 'v1', ALICE), 200);

    await podman('rmi', '--all', '--force');
    await podman('pull', '--tls-verify=false', ref);
    assert.equal(await imageId(ref), id);
    await podman('rmi', '--force', ref);
    await podman('pull', '--tls-verify=false', `${reg.host}/alice/tool@${pushed}`);
    assert.equal(await imageId(`${reg.host}/alice/tool@${pushed}`), id);
  });

  it('logs out; the private repository no longer pulls', async () => {
    await podman('logout', '--authfile', authfile, reg.host);
    assert.equal((await storedAuths())[reg.host], undefined, 'logout removes the credentials');
    await podman('rmi', '--all', '--force');
    const result = await podmanFails('pull', '--tls-verify=false', `${reg.host}/alice/tool:v1`);
    assert.match(result.stderr, /unauthorized|authentication required/i);
  });

  it('pulls a public repository anonymously', async () => {
    await reg.accounts.setVisibility(SYSTEM, 'alice/tool', 'public');
    const ref = `${reg.host}/alice/tool:v1`;
    await podman('pull', '--tls-verify=false', ref);
    assert.equal(await imageId(ref), image.image.configDigest.slice('sha256:'.length));
    // and pushes anonymously are still refused
    await podman('tag', ref, `${reg.host}/alice/tool:anon`);
    const push = await podmanFails('push', '--tls-verify=false', `${reg.host}/alice/tool:anon`);
    assert.match(push.stderr, /unauthorized|authentication required|denied/i);
    assert.equal(await headStatus(reg, 'alice/tool', 'anon', ALICE), 404);
  });
});
