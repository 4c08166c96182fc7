/**
 * Immutable tags over real HTTP (issue 15): a rule of the config and rules set by administrators
 * through /api/v1/admin/immutable. Moving a held tag and deleting it, or the manifest it points
 * at, is 403 DENIED naming the rule, through /v2, the management API's content deletes and
 * `berth repo delete`, for administrators too; pushing the same manifest again is fine; lifting the
 * rule (the API's removed, the config's disabled) lets the change through. The API's refusals.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { SYSTEM } from '../../src/auth/principal.ts';
import { runBerth } from '../../src/cli/test-support.ts';
import { paths } from '../../src/http/routes.ts';
import { api } from '../helpers/api.ts';
import { AuthClient, type Credentials } from '../helpers/auth-client.ts';
import { OCI_MANIFEST } from '../helpers/client.ts';
import { useTestRegistry } from '../helpers/inproc.ts';

const ops: Credentials = { user: 'ops', password: 'ops-password' };
const alice: Credentials = { user: 'alice', password: 'alice-password' };

interface ErrorBody {
  errors: { code: string; message: string; detail?: { rule?: { repository: string; tags: string[]; source: string } } }[];
}

describe('immutable tags', () => {
  const t = useTestRegistry({ config: { storage: { delete: { enabled: true } }, access: { immutable: [{ repository: 'acme/*', tags: ['v*', 'stable'] }] } } });
  const call = (...a: Parameters<ReturnType<typeof api>>) => api(t.reg.url)(...a);
  let asAlice: AuthClient;
  let asOps: AuthClient;
  before(async () => {
    const accounts = t.reg.running.access.accounts;
    await accounts.createUser(SYSTEM, ops.user, ops.password, true);
    await accounts.createUser(SYSTEM, alice.user, alice.password);
    await accounts.createOrg(SYSTEM, 'acme', 'alice');
    asAlice = new AuthClient(t.reg.url, alice, 'basic');
    asOps = new AuthClient(t.reg.url, ops, 'basic');
  });

  /** PUT an image manifest (blobs pushed first) and return the response. */
  async function put(client: AuthClient, repo: string, tag: string, layer: string): Promise<Response> {
    const config = await client.pushBlob(repo, `{"layer":"${layer}"}`, 'application/vnd.oci.image.config.v1+json');
    const l = await client.pushBlob(repo, layer, 'application/vnd.oci.image.layer.v1.tar+gzip');
    return client.putManifest(repo, tag, { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [l] }, OCI_MANIFEST);
  }

  async function denied(res: Response, pattern: RegExp): Promise<ErrorBody['errors'][number]> {
    assert.equal(res.status, 403);
    const error = ((await res.json()) as ErrorBody).errors[0];
    assert.equal(error?.code, 'DENIED');
    assert.match(error?.message ?? '', pattern);
    return error as ErrorBody['errors'][number];
  }

  it('a config rule: the tag cannot move, the same manifest may be pushed again, other tags and repositories move', async () => {
    const first = await put(asAlice, 'acme/app', 'v1', 'one');
    assert.equal(first.status, 201);
    const digest = first.headers.get('docker-content-digest');
    assert.equal((await put(asAlice, 'acme/app', 'v1', 'one')).status, 201, 'the same digest again');
    const error = await denied(await put(asAlice, 'acme/app', 'v1', 'two'), /tag "v1" of acme\/app is immutable.*acme\/\*.*"v\*".*config/);
    assert.deepEqual(error.detail?.rule, { repository: 'acme/*', tags: ['v*', 'stable'], source: 'config' });
    await denied(await put(asOps, 'acme/app', 'v1', 'three'), /immutable/);
    const pulled = await asAlice.fetch('/v2/acme/app/manifests/v1', { headers: { Accept: OCI_MANIFEST } });
    assert.equal(pulled.headers.get('docker-content-digest'), digest, 'still the first manifest');
    assert.equal((await put(asAlice, 'acme/app', 'latest', 'one')).status, 201);
    assert.equal((await put(asAlice, 'acme/app', 'latest', 'two')).status, 201, 'latest is not held');
    assert.equal((await put(asAlice, 'acme/app', 'v2', 'two')).status, 201, 'a new held tag is created');
    assert.equal((await put(asAlice, 'acme/app', 'stable', 'one')).status, 201);
    await denied(await put(asAlice, 'acme/app', 'stable', 'two'), /"stable"/);
    assert.equal((await put(asAlice, 'alice/app', 'v1', 'one')).status, 201);
    assert.equal((await put(asAlice, 'alice/app', 'v1', 'two')).status, 201, 'alice/* is not covered');
  });

  it('a held tag, or a manifest it points at, cannot be deleted through /v2, the content API or the CLI, by anyone', async () => {
    const res = await put(asAlice, 'acme/lib', 'v1.0', 'lib');
    const digest = res.headers.get('docker-content-digest') ?? '';
    await denied(await asAlice.fetch('/v2/acme/lib/manifests/v1.0', { method: 'DELETE' }), /tag "v1.0" of acme\/lib is immutable: it cannot be deleted/);
    await denied(await asOps.fetch('/v2/acme/lib/manifests/v1.0', { method: 'DELETE' }), /cannot be deleted/);
    await denied(await asOps.fetch(`/v2/acme/lib/manifests/${digest}`, { method: 'DELETE' }), new RegExp(`manifest ${digest}, tagged "v1.0",.*immutable`));
    await denied(await asOps.fetch('/api/v1/repositories/acme/lib/_tags/v1.0', { method: 'DELETE' }), /immutable/);
    assert.equal((await put(asAlice, 'acme/lib', 'dev', 'dev')).status, 201);
    await denied(await asOps.fetch('/api/v1/repositories/acme/lib', { method: 'DELETE' }), /immutable/);
    assert.equal((await asAlice.fetch('/v2/acme/lib/manifests/dev', { method: 'HEAD', headers: { Accept: OCI_MANIFEST } })).status, 200, 'a refused repository delete deletes nothing');

    const root = t.reg.root ?? '';
    const file = path.join(root, 'cli.yml');
    await fs.writeFile(file, JSON.stringify({ storage: { filesystem: { rootdirectory: root }, delete: { enabled: true } }, access: { immutable: [{ repository: 'acme/*', tags: ['v*'] }] } }));
    const cli = await runBerth(['repo', 'delete', 'acme/lib', '--config', file]);
    assert.equal(cli.code, 1, cli.stderr);
    assert.match(cli.stderr, /tagged "v1.0", of acme\/lib is immutable: it cannot be deleted \(rule: repository "acme\/\*"/);
    assert.equal((await asAlice.fetch('/v2/acme/lib/manifests/v1.0', { method: 'HEAD', headers: { Accept: OCI_MANIFEST } })).status, 200);
    assert.equal((await asAlice.fetch('/v2/acme/lib/manifests/dev', { method: 'DELETE' })).status, 202, 'an untagged-by-rule tag goes');
  });

  it('administrators add a rule through the API; it holds for them too until they lift it', async () => {
    assert.equal((await put(asAlice, 'alice/tool', 'v1', 'a')).status, 201);
    const set = await call('PUT', paths.apiAdminImmutable(), { as: ops, body: { repository: 'alice/tool', tags: ['*'] } });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual(set.body, { repository: 'alice/tool', tags: ['*'], source: 'api', disabled: false, configTags: null, updatedBy: 'ops', updatedAt: (set.body as { updatedAt: string }).updatedAt });
    await denied(await put(asAlice, 'alice/tool', 'v1', 'b'), /repository "alice\/tool", tags "\*" \(set by ops\)/);
    await denied(await put(asOps, 'alice/tool', 'v1', 'b'), /immutable/);
    await denied(await asOps.fetch('/v2/alice/tool/manifests/v1', { method: 'DELETE' }), /immutable/);
    assert.equal((await call('DELETE', `${paths.apiAdminImmutable()}?repository=alice/tool`, { as: ops })).status, 204);
    assert.equal((await put(asAlice, 'alice/tool', 'v1', 'b')).status, 201, 'lifted');
    assert.equal((await call('DELETE', `${paths.apiAdminImmutable()}?repository=alice/tool`, { as: ops })).status, 404, 'nothing left to lift');
  });

  it("a config rule lifted by an administrator is disabled, shown as such, and set again by a PUT", async () => {
    assert.equal((await call('DELETE', `${paths.apiAdminImmutable()}?repository=acme/*`, { as: ops })).status, 204);
    const listed = await call('GET', paths.apiAdminImmutable(), { as: ops });
    const rule = (listed.body as { rules: { repository: string; disabled: boolean; configTags: string[]; tags: string[] }[] }).rules.find((r) => r.repository === 'acme/*');
    assert.deepEqual([rule?.disabled, rule?.tags, rule?.configTags], [true, [], ['v*', 'stable']]);
    assert.equal((await put(asAlice, 'acme/app', 'v1', 'moved')).status, 201, 'the config rule is lifted');
    assert.equal((await call('PUT', paths.apiAdminImmutable(), { as: ops, body: { repository: 'acme/*', tags: ['v*'] } })).status, 200);
    await denied(await put(asAlice, 'acme/app', 'v1', 'again'), /set by ops/);
  });

  it('refuses callers who are not administrators, and bad rules', async () => {
    assert.equal((await call('GET', paths.apiAdminImmutable())).status, 401);
    assert.equal((await call('GET', paths.apiAdminImmutable(), { as: alice })).status, 403);
    assert.equal((await call('PUT', paths.apiAdminImmutable(), { as: alice, body: { repository: 'alice/*', tags: ['*'] } })).status, 403);
    assert.equal((await call('DELETE', `${paths.apiAdminImmutable()}?repository=acme/*`, { as: alice })).status, 403);
    assert.equal((await call('PUT', paths.apiAdminImmutable(), { body: { repository: 'alice/*', tags: ['*'] } })).status, 401);
    for (const body of [
      { repository: 'Not A Pattern', tags: ['*'] },
      { repository: 'a/*', tags: [] },
      { repository: 'a/*', tags: ['has space'] },
      { repository: 'a/*', tags: ['(x)'] },
      { repository: 'a/*', tags: ['v*'], extra: 1 },
      { repository: 'a/*', tags: Array.from({ length: 21 }, (_, i) => `t${i}`) },
      { repository: `${'a'.repeat(181)}`, tags: ['v*'] },
      'not json',
    ]) {
      const res = await call('PUT', paths.apiAdminImmutable(), { as: ops, body });
      assert.equal(res.code, 'REQUEST_INVALID', JSON.stringify(body).slice(0, 80));
    }
    assert.equal((await call('DELETE', `${paths.apiAdminImmutable()}?repository=`, { as: ops })).code, 'REQUEST_INVALID');
    assert.equal((await call('DELETE', `${paths.apiAdminImmutable()}?repository=BAD`, { as: ops })).code, 'REQUEST_INVALID');
  });
});
