/**
 * The content API and the admin storage view under access control: who may list, read and delete
 * (anonymous callers of a private repository are asked to log in, readers may not delete tags,
 * writers may not delete the repository, its owner may), and what storage each namespace takes
 * (shared blobs once per namespace, one-component names under `library`), with the samples taken
 * since start; administrators only.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { useTestRegistry } from '../helpers/inproc.ts';
import { api } from '../helpers/api.ts';
import { AuthClient, type Credentials } from '../helpers/auth-client.ts';
import { expectAccessControl } from '../helpers/auth.ts';
import { SYSTEM } from '../../src/auth/principal.ts';
import { paths } from '../../src/http/routes.ts';

const users = {
  root: { user: 'ops', password: 'ops-password-1' },
  alice: { user: 'alice', password: 'alice-password-1' },
  bob: { user: 'bob', password: 'bob-password-1' },
  carol: { user: 'carol', password: 'carol-password-1' },
  dave: { user: 'dave', password: 'dave-password-1' },
} satisfies Record<string, Credentials>;

interface StorageJson {
  total: { bytes: number; blobs: number };
  namespaces: { namespace: string; bytes: number; repositories: number }[];
  samples: { at: string; total: number; namespaces: Record<string, number> }[];
}

describe('content API under access control', () => {
  const t = useTestRegistry({ storage: 'inmemory' });
  const call = (...a: Parameters<ReturnType<typeof api>>) => api(t.reg.url)(...a);
  let digest: string;

  before(async () => {
    const { accounts } = t.reg.running.access;
    await accounts.createUser(SYSTEM, users.root.user, users.root.password, true);
    for (const u of [users.alice, users.bob, users.carol, users.dave]) await accounts.createUser(SYSTEM, u.user, u.password);
    await accounts.createOrg(SYSTEM, 'acme', 'alice');
    const teams = [
      ['readers', 'bob', 'read'],
      ['writers', 'carol', 'write'],
    ] as const;
    for (const [team, member, role] of teams) {
      await accounts.createTeam(SYSTEM, 'acme', team);
      await accounts.addTeamMember(SYSTEM, 'acme', team, member);
      await accounts.setTeamPermission(SYSTEM, 'acme', team, 'acme/app', role);
    }
    await expectAccessControl(t.reg);
    const alice = new AuthClient(t.reg.url, users.alice, 'basic');
    digest = (await alice.pushImage('acme/app', 'v1')).descriptor.digest;
    await alice.pushImage('acme/app', 'v2');
  });

  it('asks anonymous callers of a private repository to log in, and refuses others', async () => {
    for (const path of [paths.apiRepositoryTags('acme/app'), paths.apiRepositoryManifest('acme/app', 'v1')]) {
      const anonymous = await call('GET', path);
      assert.equal(anonymous.status, 401, path);
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /scope="repository:acme\/app:pull"/);
      const stranger = await call('GET', path, { as: users.dave });
      assert.equal(stranger.status, 403, path);
      assert.equal(stranger.code, 'DENIED');
    }
    assert.equal((await call('DELETE', paths.apiRepositoryTag('acme/app', 'v1'))).status, 401);
    assert.equal((await call('DELETE', paths.apiRepository('acme/app'))).status, 401);
  });

  it('lets readers read but not delete a tag, and writers not delete the repository', async () => {
    const listed = await call('GET', paths.apiRepositoryTags('acme/app'), { as: users.bob });
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual((listed.body as { tags: { name: string }[] }).tags.map((x) => x.name), ['v1', 'v2']);
    assert.equal((await call('GET', paths.apiRepositoryManifest('acme/app', digest), { as: users.bob })).status, 200);
    const tag = await call('DELETE', paths.apiRepositoryTag('acme/app', 'v1'), { as: users.bob });
    assert.equal(tag.status, 403);
    assert.equal(tag.code, 'DENIED');
    for (const who of [users.bob, users.carol, users.dave]) {
      const repo = await call('DELETE', paths.apiRepository('acme/app'), { as: who });
      assert.equal(repo.status, 403, who.user);
      assert.equal(repo.code, 'DENIED');
    }
    const still = await call('GET', paths.apiRepositoryTags('acme/app'), { as: users.alice });
    assert.deepEqual((still.body as { total: number }).total, 2);
  });

  it('lets the repository administrator delete a tag, then the repository', async () => {
    assert.equal((await call('DELETE', paths.apiRepositoryTag('acme/app', 'v1'), { as: users.alice })).status, 204);
    assert.equal((await call('DELETE', paths.apiRepository('acme/app'), { as: users.alice })).status, 204);
    const gone = await call('GET', paths.apiRepositoryTags('acme/app'), { as: users.alice });
    assert.equal(gone.code, 'NAME_UNKNOWN');
    const none = await call('DELETE', paths.apiRepository('alice/nothing'), { as: users.alice });
    assert.equal(none.status, 404);
    assert.equal(none.code, 'NAME_UNKNOWN');
  });

  it('shows storage to administrators only', async () => {
    assert.equal((await call('GET', paths.apiAdminStorage())).status, 401);
    const denied = await call('GET', paths.apiAdminStorage(), { as: users.alice });
    assert.equal(denied.status, 403);
    assert.equal(denied.code, 'DENIED');
    assert.equal((await call('GET', paths.apiAdminStorage(), { as: users.root })).status, 200);
  });
});

describe('admin storage', () => {
  const t = useTestRegistry({ storage: 'inmemory' });
  const storage = async (): Promise<StorageJson> => {
    const res = await api(t.reg.url)('GET', paths.apiAdminStorage());
    assert.equal(res.status, 200, res.text);
    return res.body as StorageJson;
  };

  it('takes a sample at start', async () => {
    let samples: StorageJson['samples'] = [];
    for (let i = 0; i < 50 && samples.length === 0; i++) {
      samples = (await storage()).samples;
      if (samples.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(samples.length, 1);
    assert.ok(Math.abs(Date.parse(samples[0]?.at ?? '') - Date.now()) < 60_000, samples[0]?.at);
    assert.equal(samples[0]?.total, 0);
    assert.deepEqual(samples[0]?.namespaces, {});
  });

  it('counts the bytes of distinct blobs per namespace, and once in the total', async () => {
    const { client } = t;
    const shared = 'a layer several repositories hold '.repeat(30);
    const a = await client.pushImage('team/a', 'v1', { layer: shared });
    const b = await client.pushImage('team/b', 'v1', { layer: shared });
    const c = await client.pushImage('other/c', 'v1', { layer: shared });
    const d = await client.pushImage('ubuntu', 'v1');
    const e = await client.pushImage('library/debian', 'v1');
    const bytes = (...images: (typeof a)[]) =>
      [...new Map(images.flatMap((i) => [i.descriptor, i.config, i.layer]).map((x) => [x.digest, x.size])).values()].reduce((s, n) => s + n, 0);
    const now = await storage();
    assert.deepEqual(now.namespaces, [
      { namespace: 'team', bytes: bytes(a, b), repositories: 2 },
      { namespace: 'library', bytes: bytes(d, e), repositories: 2 },
      { namespace: 'other', bytes: bytes(c), repositories: 1 },
    ].sort((x, y) => y.bytes - x.bytes || x.namespace.localeCompare(y.namespace)));
    assert.ok(bytes(a, b) < bytes(a) + bytes(b), 'the shared layer counts once in team');
    const all = [a, b, c, d, e].flatMap((i) => [i.descriptor, i.config, i.layer]);
    assert.deepEqual(now.total, { bytes: bytes(a, b, c, d, e), blobs: new Set(all.map((x) => x.digest)).size });
  });
});
