/**
 * Issue 12, finding 1: a mirrored repository name must never serve, link or confirm a blob that
 * only another repository holds. alice's private image sits beside a mirror whose upstream is a
 * second berth; whoever may pull a mirrored name (anonymous on a public one, a team reader, the
 * owner of an organisation named like a mirror prefix, any user when `proxy.remoteurl` mirrors
 * every name) asks it for alice's layer, config and manifest digests: 404 BLOB_UNKNOWN on GET and
 * HEAD, and nothing left behind to mount. The legitimate reuse still works: a blob cached through
 * one mirrored name is served through another once the upstream confirms it there (one HEAD, no
 * GET), and warm pulls never reach the upstream.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { SYSTEM } from '../../src/auth/principal.ts';
import { AccountInvalidError } from '../../src/auth/errors.ts';
import { createAccessControl } from '../../src/auth/setup.ts';
import { configSchema } from '../../src/config/schema.ts';
import { openSqliteBackend } from '../../src/meta/sqlite/backend.ts';
import { pseudoRandom } from '../fixtures/oci.ts';
import { AuthClient, basicHeader, type Credentials } from '../helpers/auth-client.ts';
import { startAuthRegistry, expectAccessControl, type AuthRegistry } from '../helpers/auth.ts';
import { Client, errorCode, OCI_MANIFEST, sha256 } from '../helpers/client.ts';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';
import { delta, probeBlob, requestCounts, startBerthOn } from '../helpers/mirror.ts';
import { tempDir } from '../helpers/process.ts';

const boss: Credentials = { user: 'boss', password: 'boss-password-1' };
const alice: Credentials = { user: 'alice', password: 'alice-password-1' };
const mallory: Credentials = { user: 'mallory', password: 'mallory-password-1' };
const tina: Credentials = { user: 'tina', password: 'tina-password-1' };
const as = (who: Credentials) => ({ authorization: basicHeader(who) });

type Image = Awaited<ReturnType<Client['pushImage']>>;
const digestsOf = (img: Image) => [img.layer.digest, img.config.digest, img.descriptor.digest];

/** Every digest of `secret` under `repo`: 404 BLOB_UNKNOWN on GET, 404 on HEAD (no body). */
async function assertNothingServed(base: string, repo: string, secret: Image, headers: Record<string, string> = {}): Promise<void> {
  for (const digest of digestsOf(secret)) {
    assert.deepEqual(await probeBlob(base, repo, digest, headers), { get: 404, head: 404, code: 'BLOB_UNKNOWN' }, `${repo} ${digest}`);
  }
}

/** GET of a blob's first byte: a range is served from the cached copy, so it answers once a transfer of the blob is committed. */
async function firstByte(base: string, repo: string, digest: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${base}/v2/${repo}/blobs/${digest}`, { headers: { ...headers, range: 'bytes=0-0' } });
  await res.arrayBuffer();
  return res.status;
}

/** POST ?mount=&from=: 202 (an upload starts) when there is nothing to mount; the upload is then cancelled. */
async function mountStatus(base: string, repo: string, digest: string, from: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(`${base}/v2/${repo}/blobs/uploads/?mount=${digest}&from=${from}`, { method: 'POST', headers });
  await res.arrayBuffer();
  const location = res.headers.get('location');
  if (res.status === 202 && location !== null) await (await fetch(new URL(location, base), { method: 'DELETE', headers })).arrayBuffer();
  return res.status;
}

describe('mirror with upstream prefixes (hub/, ghcr.io/) beside private repositories', () => {
  let upstream: TestRegistry;
  let mirror: AuthRegistry;
  let secret: Image;
  let pub: Image;
  let other: Image;

  before(async () => {
    upstream = await startTestRegistry();
    const up = new Client(upstream.url);
    pub = await up.pushImage('library/pub', 'v1', { layer: 'the public base layer' });
    other = await up.pushImage('library/other', 'v2', { layer: 'the public base layer' });
    await up.pushImage('library/internal', 'v1', { layer: 'an internal image' });
    mirror = await startAuthRegistry({
      proxy: {
        upstreams: [
          { name: 'hub', prefix: 'hub/', url: upstream.url },
          { name: 'ghcr', prefix: 'ghcr.io/', url: upstream.url },
        ],
      },
    });
    const { accounts } = mirror;
    await accounts.createUser(SYSTEM, boss.user, boss.password, true);
    for (const u of [alice, mallory, tina]) await accounts.createUser(SYSTEM, u.user, u.password);
    await expectAccessControl(mirror);
    secret = await new AuthClient(mirror.url, alice, 'basic').pushImage('alice/secret', 'latest', { layer: 'alice private layer' });
    assert.equal((await accounts.repository(SYSTEM, 'alice/secret')).visibility, 'private');

    // An administrator pulls two images through the mirror and makes one public.
    const admin = new AuthClient(mirror.url, boss, 'basic');
    for (const repo of ['hub/library/pub', 'hub/library/internal']) {
      const manifest = await admin.fetch(`/v2/${repo}/manifests/v1`, { headers: { accept: OCI_MANIFEST } });
      assert.equal(manifest.status, 200);
      const { config, layers } = (await manifest.json()) as { config: { digest: string }; layers: { digest: string }[] };
      for (const d of [config.digest, ...layers.map((l) => l.digest)]) assert.equal(await firstByte(mirror.url, repo, d, as(boss)), 206);
    }
    await accounts.setVisibility(SYSTEM, 'hub/library/pub', 'public');

    // An organisation named like a mirror prefix, taken before the name was reserved (straight in
    // the store), owned by mallory; its team 'readers' (tina) may read hub/library/internal.
    await accounts.store.createOrg('hub', mallory.user);
    await accounts.createTeam(SYSTEM, 'hub', 'readers');
    await accounts.addTeamMember(SYSTEM, 'hub', 'readers', tina.user);
    await accounts.setTeamPermission(SYSTEM, 'hub', 'readers', 'hub/library/internal', 'read');
  });
  after(async () => {
    await mirror?.stop();
    await upstream?.stop();
  });

  it('anonymous: a public mirrored repository answers 404 for another repository’s private digests', async () => {
    assert.equal((await probeBlob(mirror.url, 'hub/library/pub', pub.layer.digest)).get, 200, 'the public mirrored repository is pullable anonymously');
    await assertNothingServed(mirror.url, 'hub/library/pub', secret);
    const manifest = await fetch(`${mirror.url}/v2/hub/library/pub/manifests/${secret.descriptor.digest}`, { headers: { accept: OCI_MANIFEST } });
    assert.equal(manifest.status, 404);
    assert.equal(await errorCode(manifest), 'MANIFEST_UNKNOWN');
  });

  it('an organisation named like a mirror prefix gives its owner and its teams no rights on the mirrored names', async () => {
    const denied = { get: 403, head: 403, code: 'DENIED' };
    assert.deepEqual(await probeBlob(mirror.url, 'hub/library/internal', pub.layer.digest, as(tina)), denied, 'the team reader');
    assert.deepEqual(await probeBlob(mirror.url, 'hub/library/internal', secret.layer.digest, as(mallory)), denied, 'the owner');
    const publish = await fetch(`${mirror.url}/api/v1/repositories/hub/library/internal`, {
      method: 'PATCH',
      headers: { ...as(mallory), 'content-type': 'application/json' },
      body: JSON.stringify({ visibility: 'public' }),
    });
    assert.equal(publish.status, 403, 'the owner cannot publish what an administrator cached privately');
    assert.equal((await mirror.accounts.repository(SYSTEM, 'hub/library/internal')).visibility, 'private');
  });

  it('organisation claim: names of mirror prefixes are refused; an organisation already holding one gets nothing', async () => {
    for (const name of ['ghcr.io', 'hub']) {
      const res = await fetch(`${mirror.url}/api/v1/orgs`, { method: 'POST', headers: { ...as(mallory), 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
      assert.equal(res.status, 400, name);
      const body = (await res.json()) as { errors: { code: string; message: string }[] };
      assert.equal(body.errors[0]?.code, 'REQUEST_INVALID');
      assert.match(body.errors[0]?.message ?? '', /reserved.*mirror/);
    }
    await assert.rejects(mirror.accounts.createUser(SYSTEM, 'ghcr.io', 'ghcr-password-1'), AccountInvalidError, 'not as a user name either, not even by an administrator');
    assert.deepEqual(await probeBlob(mirror.url, 'hub/mallory/loot', secret.layer.digest, as(mallory)), { get: 403, head: 403, code: 'DENIED' });
    await assertNothingServed(mirror.url, 'hub/mallory/loot', secret, as(boss));
    await assertNothingServed(mirror.url, 'ghcr.io/mallory/loot', secret, as(boss));
  });

  it('a manifest on the upstream that names a private digest is no confirmation of it', async () => {
    // A lax upstream keeps a manifest whose blobs it does not have (berth's own refuses such a push).
    const evil = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: secret.config, layers: [secret.layer], annotations: { by: 'mallory' } });
    await upstream.running.registry.local.manifests.storeFetched('library/evil', Buffer.from(evil), OCI_MANIFEST, 'v1');
    // Pulled by an administrator, who may pull every name: still nothing of alice's.
    const res = await fetch(`${mirror.url}/v2/hub/library/evil/manifests/v1`, { headers: { ...as(boss), accept: OCI_MANIFEST } });
    assert.equal(res.headers.get('docker-content-digest'), sha256(evil));
    await res.arrayBuffer();
    await assertNothingServed(mirror.url, 'hub/library/evil', secret, as(boss));
  });

  it('leaves nothing to mount from a mirrored name, and mounts nothing into one', async () => {
    for (const from of ['hub/library/pub', 'hub/mallory/loot', 'hub/library/evil']) {
      for (const digest of digestsOf(secret)) assert.equal(await mountStatus(mirror.url, 'mallory/loot', digest, from, as(mallory)), 202, `${from} ${digest}`);
    }
    await assertNothingServed(mirror.url, 'mallory/loot', secret, as(mallory));
    // Into a mirrored name, even from a repository the caller may pull: a mirrored name holds what its upstream has.
    assert.equal(await mountStatus(mirror.url, 'hub/library/pub', secret.layer.digest, 'alice/secret', as(boss)), 202);
    const { meta } = mirror.running.registry;
    for (const repo of ['hub/library/pub', 'hub/library/internal', 'hub/mallory/loot', 'hub/library/evil', 'mallory/loot']) {
      for (const digest of digestsOf(secret)) assert.equal(await meta.getRepositoryBlob(repo, digest), undefined, `${digest} linked to ${repo}`);
    }
  });

  it('serves a blob cached through one mirrored name through another once the upstream confirms it there, and warm pulls locally', async () => {
    const c0 = await requestCounts(upstream.url);
    const admin = new AuthClient(mirror.url, boss, 'basic');
    await (await admin.fetch('/v2/hub/library/other/manifests/v2', { headers: { accept: OCI_MANIFEST } })).arrayBuffer();
    for (const blob of [other.layer, other.config]) {
      const res = await admin.fetch(`/v2/hub/library/other/blobs/${blob.digest}`);
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), blob.digest);
    }
    const c1 = await requestCounts(upstream.url);
    assert.equal(delta(c0, c1, 'blob HEAD'), 1, 'the shared layer: confirmed with one HEAD, then served from the local copy');
    assert.equal(delta(c0, c1, 'blob GET'), 1, 'the new config only: fetched without a HEAD first');
    assert.equal(await firstByte(mirror.url, 'hub/library/other', other.config.digest, as(boss)), 206);

    for (const blob of [pub.layer, pub.config]) {
      const res = await fetch(`${mirror.url}/v2/hub/library/pub/blobs/${blob.digest}`);
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), blob.digest);
    }
    const c2 = await requestCounts(upstream.url);
    assert.deepEqual([delta(c1, c2, 'blob HEAD'), delta(c1, c2, 'blob GET')], [0, 0], 'warm pulls never reach the upstream');
  });
});

describe('mirror in remoteurl mode: every name is mirrored, repositories pushed before included', () => {
  let upstream: TestRegistry;
  let root: string;
  let mirror: Awaited<ReturnType<typeof startBerthOn>> | undefined;
  let secret: Image;

  before(async () => {
    upstream = await startTestRegistry();
    root = await tempDir('remoteurl');
    // alice pushes while the registry mirrors nothing; then it restarts as distribution's mirror.
    const plain = await startBerthOn(root);
    const { accounts } = plain.running.access;
    for (const u of [alice, mallory, tina]) await accounts.createUser(SYSTEM, u.user, u.password);
    // A team reader of one repository of alice's organisation (a mirrored name, like every name here).
    await accounts.createOrg(SYSTEM, 'acme', alice.user);
    await accounts.createTeam(SYSTEM, 'acme', 'readers');
    await accounts.addTeamMember(SYSTEM, 'acme', 'readers', tina.user);
    await accounts.setTeamPermission(SYSTEM, 'acme', 'readers', 'acme/internal', 'read');
    await expectAccessControl(plain);
    secret = await new AuthClient(plain.url, alice, 'basic').pushImage('alice/secret', 'latest', { layer: 'pushed before the mirror' });
    await plain.running.close(1000);
    mirror = await startBerthOn(root, { proxy: { remoteurl: upstream.url } });
  });
  after(async () => {
    await mirror?.running.close(1000);
    await upstream?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('a user’s own namespace, mirrored, answers 404 for another user’s digests and leaves nothing to mount', async () => {
    const url = mirror?.url ?? '';
    await assertNothingServed(url, 'mallory/app', secret, as(mallory));
    for (const digest of digestsOf(secret)) assert.equal(await mountStatus(url, 'mallory/loot', digest, 'mallory/app', as(mallory)), 202);
    await assertNothingServed(url, 'mallory/loot', secret, as(mallory));
  });

  it('team reader: read on a mirrored repository reads only what the upstream has there', async () => {
    await assertNothingServed(mirror?.url ?? '', 'acme/internal', secret, as(tina));
  });

  it('still serves alice her own blobs locally, and reserves no user names (there is no prefix)', async () => {
    const c0 = await requestCounts(upstream.url);
    const res = await fetch(`${mirror?.url ?? ''}/v2/alice/secret/blobs/${secret.layer.digest}`, { headers: as(alice) });
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), secret.layer.digest);
    const c1 = await requestCounts(upstream.url);
    assert.deepEqual([delta(c0, c1, 'blob HEAD'), delta(c0, c1, 'blob GET')], [0, 0]);
    const carol = await mirror?.running.access.accounts.createUser(SYSTEM, 'carol', 'carol-password-1');
    assert.equal(carol?.name, 'carol');
  });
});

describe('a blob transfer in progress for one mirrored repository', () => {
  // An upstream that has the blob under private/app only; its GET sends half the bytes, then waits.
  const data = pseudoRandom(64 * 1024, 'in flight');
  const digest = sha256(data);
  let release = (): void => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let sending = (): void => undefined;
  const halfSent = new Promise<void>((resolve) => (sending = resolve));
  const upstream = http.createServer((req, res) => {
    if (req.url !== `/v2/private/app/blobs/${digest}`) return res.writeHead(404).end();
    res.writeHead(200, { 'content-length': data.length, 'content-type': 'application/octet-stream' });
    if (req.method === 'HEAD') return res.end();
    res.write(data.subarray(0, data.length / 2));
    sending();
    void released.then(() => res.end(data.subarray(data.length / 2)));
  });
  let mirror: TestRegistry;

  before(async () => {
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as { port: number };
    mirror = await startTestRegistry({ config: { proxy: { upstreams: [{ name: 'fake', prefix: 'fake/', url: `http://127.0.0.1:${port}` }] } } });
  });
  after(async () => {
    release();
    await mirror?.stop();
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  it('is joined only by a repository the upstream confirms the digest for', async () => {
    const first = fetch(`${mirror.url}/v2/fake/private/app/blobs/${digest}`);
    await halfSent;
    const other = await fetch(`${mirror.url}/v2/fake/public/app/blobs/${digest}`);
    release();
    assert.equal(sha256(Buffer.from(await (await first).arrayBuffer())), digest);
    assert.equal(other.status, 404);
    assert.equal(await errorCode(other), 'BLOB_UNKNOWN');
    assert.equal(await firstByte(mirror.url, 'fake/private/app', digest), 206);
    assert.deepEqual(await probeBlob(mirror.url, 'fake/public/app', digest), { get: 404, head: 404, code: 'BLOB_UNKNOWN' }, 'nor served once cached');
  });
});

describe('start-up with a user or organisation named like a mirror prefix', () => {
  it('warns in the log about each one', async () => {
    const { meta, accounts: store, close } = openSqliteBackend({ path: ':memory:' });
    try {
      const plain = await createAccessControl({ config: configSchema.parse({}), store, meta });
      await plain.accounts.createUser(SYSTEM, 'ghcr.io', 'ghcr-password-1');
      await plain.accounts.createOrg(SYSTEM, 'hub', 'ghcr.io');
      let lines = '';
      const log = pino({ level: 'warn' }, { write: (line: string) => void (lines += line) });
      const proxy = { upstreams: [{ name: 'ghcr', prefix: 'ghcr.io/', url: 'https://ghcr.io' }, { name: 'hub', prefix: 'hub/', url: 'https://registry-1.docker.io' }] };
      const mirrored = await createAccessControl({ config: configSchema.parse({ proxy }), store, meta, log });
      assert.match(lines, /the user ghcr\.io holds a name the mirror reserves/);
      assert.match(lines, /the organisation hub holds a name the mirror reserves/);
      assert.deepEqual(await mirrored.accounts.reservedNamesInUse(), [
        { name: 'ghcr.io', kind: 'user' },
        { name: 'hub', kind: 'org' },
      ]);
    } finally {
      await close();
    }
  });
});
