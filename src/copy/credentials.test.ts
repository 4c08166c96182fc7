/**
 * Credentials for docker://: --creds, config.json `auths` (auth, identitytoken, keys in docker's
 * URL forms), `credHelpers` and `credsStore` (a shell-script helper on PATH), and against a real
 * berth with access control: a pull with a config.json auth, with docker login's identity token
 * (berth's refresh tokens, through the OAuth2 POST), and with a helper. No secret in any error.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildImage } from '../../test/fixtures/oci.ts';
import { startTestRegistry, type TestRegistry } from '../../test/helpers/inproc.ts';
import { pushBuiltImage, basicAuth } from '../../test/helpers/mirror.ts';
import { tempDir } from '../../test/helpers/process.ts';
import { SYSTEM } from '../auth/principal.ts';
import { credentialFiles, credentialsFor, DOCKER_HUB_KEY, parseCreds, type RegistryCredential } from './credentials.ts';
import { RegistryClient } from './registry-client.ts';
import { CopyError } from './transport.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A docker-credential-NAME helper: answers for `server` only, else "credentials not found" with exit 1 (as docker's helpers do). */
async function writeHelper(dir: string, name: string, server: string, username: string, secret: string): Promise<void> {
  const file = path.join(dir, `docker-credential-${name}`);
  await writeFile(
    file,
    `#!/bin/sh
[ "$1" = get ] || exit 2
read -r server
if [ "$server" = '${server}' ]; then
  printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\\n' "$server" '${username}' '${secret}'
else
  echo 'credentials not found in native keychain'
  exit 1
fi
`,
  );
  await chmod(file, 0o755);
}

describe('credentialsFor', () => {
  let dir: string;
  let bin: string;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    dir = await tempDir('creds');
    bin = path.join(dir, 'bin');
    await mkdir(bin);
    env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` };
    await writeHelper(bin, 'test', 'helped.example.com', 'helper-user', 'helper-secret-1');
    await writeHelper(bin, 'store', 'stored.example.com:5000', '<token>', 'stored-identity-token');
    await writeFile(path.join(bin, 'docker-credential-broken'), '#!/bin/sh\necho "boom with helper-secret-1" >&2\nexit 3\n', { mode: 0o755 });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const config = async (name: string, json: unknown): Promise<string> => {
    const d = path.join(dir, name);
    await mkdir(d, { recursive: true });
    await writeFile(path.join(d, 'config.json'), JSON.stringify(json));
    return d;
  };

  it('parses --creds, a password with colons included, and it wins over config.json', async () => {
    assert.deepEqual(parseCreds('u:p:q'), { kind: 'basic', username: 'u', password: 'p:q' });
    assert.throws(() => parseCreds('nocolon'), (e: CopyError) => e.code === 'BERTH_COPY_CREDENTIALS_INVALID' && !e.message.includes('nocolon'));
    const d = await config('wins', { auths: { 'h.example.com': { auth: b64('a:b') } } });
    assert.deepEqual(await credentialsFor('h.example.com', { creds: 'x:y', configDir: d }), { kind: 'basic', username: 'x', password: 'y' });
  });

  it('reads auths entries: base64 auth, identitytoken, keys in URL form, Docker Hub under its v1 key', async () => {
    const d = await config('auths', {
      auths: {
        '127.0.0.1:5000': { auth: b64('alice:pa:ss') },
        'https://reg.example.com/v1/': { auth: b64('bob:pw') },
        'tok.example.com': { auth: '', identitytoken: 'rt-123' },
        [DOCKER_HUB_KEY]: { auth: b64('hubuser:hubpw') },
      },
    });
    assert.deepEqual(await credentialsFor('127.0.0.1:5000', { configDir: d }), { kind: 'basic', username: 'alice', password: 'pa:ss' });
    assert.deepEqual(await credentialsFor('reg.example.com', { configDir: d }), { kind: 'basic', username: 'bob', password: 'pw' });
    assert.deepEqual(await credentialsFor('tok.example.com', { configDir: d }), { kind: 'identity-token', token: 'rt-123' });
    assert.deepEqual(await credentialsFor('registry-1.docker.io', { configDir: d }), { kind: 'basic', username: 'hubuser', password: 'hubpw' });
    assert.equal(await credentialsFor('other.example.com', { configDir: d }), undefined);
    assert.equal(await credentialsFor('127.0.0.1:5001', { configDir: d }), undefined);
  });

  it('uses $DOCKER_CONFIG, and no file means anonymous', async () => {
    const d = await config('env', { auths: { 'e.example.com': { auth: b64('e:f') } } });
    assert.deepEqual(await credentialsFor('e.example.com', { env: { DOCKER_CONFIG: d } }), { kind: 'basic', username: 'e', password: 'f' });
    assert.equal(await credentialsFor('e.example.com', { configDir: path.join(dir, 'absent') }), undefined);
  });

  it("reads podman's auth.json after docker's config.json, and $REGISTRY_AUTH_FILE alone when set", async () => {
    const docker = await config('docker-first', { auths: { 'both.example.com': { auth: b64('docker:1') } } });
    const runtime = path.join(dir, 'runtime');
    await mkdir(path.join(runtime, 'containers'), { recursive: true });
    const podmanFile = path.join(runtime, 'containers', 'auth.json');
    await writeFile(podmanFile, JSON.stringify({ auths: { 'both.example.com': { auth: b64('podman:2') }, 'podman.example.com': { auth: b64('podman:3') } } }));
    const both = { DOCKER_CONFIG: docker, XDG_RUNTIME_DIR: runtime };
    assert.deepEqual(credentialFiles({ env: both }), [path.join(docker, 'config.json'), podmanFile]);
    assert.deepEqual(await credentialsFor('both.example.com', { env: both }), { kind: 'basic', username: 'docker', password: '1' });
    assert.deepEqual(await credentialsFor('podman.example.com', { env: both }), { kind: 'basic', username: 'podman', password: '3' });
    const only = { ...both, REGISTRY_AUTH_FILE: podmanFile };
    assert.deepEqual(credentialFiles({ env: only }), [podmanFile]);
    assert.deepEqual(await credentialsFor('both.example.com', { env: only }), { kind: 'basic', username: 'podman', password: '2' });
    assert.equal(await credentialsFor('none.example.com', { env: only }), undefined);
  });

  it('asks credHelpers first, then credsStore, then auths; <token> is an identity token', async () => {
    const d = await config('helpers', {
      credsStore: 'store',
      credHelpers: { 'helped.example.com': 'test' },
      auths: { 'helped.example.com': { auth: b64('file:user') }, 'plain.example.com': { auth: b64('file:plain') } },
    });
    assert.deepEqual(await credentialsFor('helped.example.com', { configDir: d, env }), { kind: 'basic', username: 'helper-user', password: 'helper-secret-1' });
    assert.deepEqual(await credentialsFor('stored.example.com:5000', { configDir: d, env }), { kind: 'identity-token', token: 'stored-identity-token' });
    // The store has nothing for this host ("credentials not found"): the auths entry answers.
    assert.deepEqual(await credentialsFor('plain.example.com', { configDir: d, env }), { kind: 'basic', username: 'file', password: 'plain' });
  });

  it('names the helper and the host when a helper fails or is missing, never its output', async () => {
    const broken = await config('broken', { credHelpers: { 'b.example.com': 'broken', 'm.example.com': 'missing' } });
    await assert.rejects(credentialsFor('b.example.com', { configDir: broken, env }), (e: CopyError) => {
      assert.equal(e.code, 'BERTH_COPY_CREDENTIALS_HELPER');
      assert.match(e.message, /docker-credential-broken failed for b\.example\.com \(exit 3\)/);
      assert.ok(!e.message.includes('helper-secret-1'));
      return true;
    });
    await assert.rejects(credentialsFor('m.example.com', { configDir: broken, env }), /docker-credential-missing is not installed \(for m\.example\.com\)/);
    const bad = await config('bad', { auths: { 'x.example.com': { auth: b64('no-colon-secret') } } });
    await assert.rejects(credentialsFor('x.example.com', { configDir: bad }), (e: CopyError) => !e.message.includes('no-colon-secret') && e.message.includes('x.example.com'));
  });
});

describe('credentials against berth with access control', () => {
  let reg: TestRegistry;
  let dir: string;
  let host: string;
  const image = buildImage({ label: 'creds-e2e' });
  before(async () => {
    reg = await startTestRegistry({ storage: 'inmemory' });
    host = new URL(reg.url).host;
    await reg.running.access.accounts.createUser(SYSTEM, 'alice', 'alice-password-1');
    await pushBuiltImage(reg.url, 'alice/app', 'v1', image, basicAuth('alice', 'alice-password-1'));
    dir = await tempDir('creds-e2e');
  });
  after(async () => {
    await reg.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const pullWith = async (credential: RegistryCredential | undefined): Promise<string> => {
    const client = new RegistryClient({ host, ...(credential !== undefined ? { credential } : {}) });
    try {
      return (await client.getManifest('alice/app', 'v1')).digest;
    } finally {
      client.close();
    }
  };

  it('pulls with a config.json auth entry', async () => {
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ auths: { [host]: { auth: b64('alice:alice-password-1') } } }));
    assert.equal(await pullWith(await credentialsFor(host, { configDir: dir })), image.manifestDigest);
  });

  it("pulls with docker login's identity token: the refresh-token grant of the OAuth2 POST", async () => {
    const res = await fetch(`${reg.url}/auth/token?service=berth&offline_token=true&client_id=docker`, { headers: basicAuth('alice', 'alice-password-1') });
    const refresh = String(((await res.json()) as Record<string, unknown>)['refresh_token']);
    assert.match(refresh, /^berth_rt_/);
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ auths: { [host]: { auth: '', identitytoken: refresh } } }));
    const credential = await credentialsFor(host, { configDir: dir });
    assert.deepEqual(credential, { kind: 'identity-token', token: refresh });
    const authenticator = reg.running.access.authenticator;
    const refreshGrant = authenticator.refresh.bind(authenticator);
    let grants = 0;
    authenticator.refresh = (secret, addr) => {
      grants++;
      return refreshGrant(secret, addr);
    };
    assert.equal(await pullWith(credential), image.manifestDigest);
    assert.equal(grants, 1, 'the token came from the refresh-token grant');
    // A revoked or forged one is refused with the host named and the token nowhere.
    await assert.rejects(pullWith({ kind: 'identity-token', token: 'berth_rt_forged-secret' }), (e: CopyError) => {
      assert.equal(e.code, 'BERTH_COPY_UNAUTHORIZED');
      assert.ok(e.message.includes(host) && !e.message.includes('forged-secret'), e.message);
      return true;
    });
  });

  it('pulls with a credential helper', async () => {
    const bin = path.join(dir, 'bin');
    await mkdir(bin, { recursive: true });
    await writeHelper(bin, 'test', host, 'alice', 'alice-password-1');
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ credHelpers: { [host]: 'test' } }));
    const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` };
    assert.equal(await pullWith(await credentialsFor(host, { configDir: dir, env })), image.manifestDigest);
  });
});
