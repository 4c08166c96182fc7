/**
 * Quotas over real HTTP (issue 15): a namespace's bytes are its distinct blobs (manifests
 * included); a blob upload's end (monolithic, chunked), a cross-repository mount into it and a
 * manifest PUT that would pass its limit are 403 DENIED with used and limit in the detail; a blob
 * it already holds always passes. Limits from the config (default, per namespace) and set by
 * administrators through /api/v1/namespaces/{ns}/quota; who may read and set them.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SYSTEM } from '../../src/auth/principal.ts';
import { paths } from '../../src/http/routes.ts';
import { api } from '../helpers/api.ts';
import { AuthClient, type Credentials } from '../helpers/auth-client.ts';
import { OCI_MANIFEST, sha256 } from '../helpers/client.ts';
import { useTestRegistry } from '../helpers/inproc.ts';

const ops: Credentials = { user: 'ops', password: 'ops-password' };
const alice: Credentials = { user: 'alice', password: 'alice-password' };
const bob: Credentials = { user: 'bob', password: 'bob-password' };

interface Denied {
  code: string;
  message: string;
  detail: { namespace: string; used: number; limit: number; size: number };
}

async function deniedOf(res: Response): Promise<Denied> {
  assert.equal(res.status, 403);
  const body = (await res.json()) as { errors: Denied[] };
  const error = body.errors[0] as Denied;
  assert.equal(error.code, 'DENIED');
  assert.match(error.message, /over its quota/);
  return error;
}

const bytes = (n: number, fill: string) => Buffer.alloc(n, fill);

describe('quotas', () => {
  const t = useTestRegistry({ config: { access: { quota: { default: '1KiB', namespaces: { acme: 2048, big: 0 } } } } });
  const call = (...a: Parameters<ReturnType<typeof api>>) => api(t.reg.url)(...a);
  let asAlice: AuthClient;
  let asBob: AuthClient;
  let asOps: AuthClient;
  before(async () => {
    const accounts = t.reg.running.access.accounts;
    await accounts.createUser(SYSTEM, ops.user, ops.password, true);
    await accounts.createUser(SYSTEM, alice.user, alice.password);
    await accounts.createUser(SYSTEM, bob.user, bob.password);
    await accounts.createOrg(SYSTEM, 'acme', 'alice');
    asAlice = new AuthClient(t.reg.url, alice, 'basic');
    asBob = new AuthClient(t.reg.url, bob, 'basic');
    asOps = new AuthClient(t.reg.url, ops, 'basic');
  });

  it('a monolithic upload past the default is refused with used and limit; a blob already held passes', async () => {
    await asAlice.pushBlob('alice/app', bytes(600, 'a'));
    const over = bytes(600, 'b');
    const res = await asAlice.fetch(`/v2/alice/app/blobs/uploads/?digest=${sha256(over)}`, { method: 'POST', body: over, headers: { 'Content-Type': 'application/octet-stream' } });
    const error = await deniedOf(res);
    assert.deepEqual(error.detail, { namespace: 'alice', used: 600, limit: 1024, size: 600 });
    assert.equal((await asAlice.fetch(`/v2/alice/app/blobs/${sha256(over)}`, { method: 'HEAD' })).status, 404, 'not stored');
    await asAlice.pushBlob('alice/other', bytes(600, 'a'));
    await asAlice.pushBlob('alice/app', bytes(400, 'c'));
  });

  it('a chunked upload is refused at its final PUT, and its session goes', async () => {
    const data = bytes(1500, 'd');
    const start = await asBob.fetch('/v2/bob/app/blobs/uploads/', { method: 'POST' });
    assert.equal(start.status, 202);
    const location = start.headers.get('location') ?? '';
    const patch = await asBob.fetch(location, { method: 'PATCH', body: data.subarray(0, 1000), headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': '0-999' } });
    assert.equal(patch.status, 202);
    const next = patch.headers.get('location') ?? location;
    const sep = next.includes('?') ? '&' : '?';
    const put = await asBob.fetch(`${next}${sep}digest=${sha256(data)}`, { method: 'PUT', body: data.subarray(1000), headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': '1000-1499' } });
    assert.deepEqual((await deniedOf(put)).detail, { namespace: 'bob', used: 0, limit: 1024, size: 1500 });
    assert.equal((await asBob.fetch(next, { method: 'GET' })).status, 404, 'the session is discarded');
  });

  it('a mount into a namespace past its limit is refused; within it, it links', async () => {
    const layer = bytes(900, 'm');
    await asAlice.pushBlob('acme/base', layer);
    const digest = sha256(layer);
    const mount = await asOps.fetch(`/v2/bob/app/blobs/uploads/?mount=${digest}&from=acme/base`, { method: 'POST' });
    assert.equal(mount.status, 201, 'bob holds nothing: 900 of 1024');
    const twice = await asAlice.fetch(`/v2/alice/mounted/blobs/uploads/?mount=${digest}&from=acme/base`, { method: 'POST' });
    assert.deepEqual((await deniedOf(twice)).detail, { namespace: 'alice', used: 1000, limit: 1024, size: 900 });
  });

  it('a manifest PUT past the limit is refused; an administrator raises the limit and it passes', async () => {
    const config = await asBob.pushBlob('bob/app', '{}', 'application/vnd.oci.image.config.v1+json');
    const manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(bytes(900, 'm')), size: 900 }], annotations: { pad: 'x'.repeat(200) } };
    const refused = await asBob.putManifest('bob/app', 'v1', manifest, OCI_MANIFEST);
    const error = await deniedOf(refused);
    assert.equal(error.detail.used, 902);
    assert.equal(error.detail.limit, 1024);
    assert.match(error.message, /this manifest adds \d+/);

    const raised = await call('PUT', paths.apiNamespaceQuota('bob'), { as: ops, body: { limit: '1MiB' } });
    assert.equal(raised.status, 200, raised.text);
    assert.deepEqual({ ...(raised.body as object), updatedAt: null }, { namespace: 'bob', used: 902, limit: 1048576, source: 'api', configLimit: 1024, updatedBy: 'ops', updatedAt: null });
    assert.equal((await asBob.putManifest('bob/app', 'v1', manifest, OCI_MANIFEST)).status, 201);
    assert.equal((await call('DELETE', paths.apiNamespaceQuota('bob'), { as: ops })).status, 204);
    const back = (await call('GET', paths.apiNamespaceQuota('bob'), { as: bob })).body as { limit: number; source: string; used: number };
    assert.deepEqual([back.limit, back.source], [1024, 'default'], 'the config applies again');
    assert.ok(back.used > 1024, 'over, after the limit came back: further pushes are refused');
    await deniedOf(await asBob.fetch(`/v2/bob/app/blobs/uploads/?digest=${sha256('z')}`, { method: 'POST', body: 'z', headers: { 'Content-Type': 'application/octet-stream' } }));
  });

  it('per-namespace config limits, 0 for none, and an override of 0 lifts the limit', async () => {
    const acme = (await call('GET', paths.apiNamespaceQuota('acme'), { as: alice })).body as { limit: number; source: string; used: number };
    assert.deepEqual([acme.limit, acme.source, acme.used], [2048, 'config', 900]);
    await asAlice.pushBlob('acme/base', bytes(1000, 'n'));
    await deniedOf(await asAlice.fetch(`/v2/acme/base/blobs/uploads/?digest=${sha256(bytes(200, 'o'))}`, { method: 'POST', body: bytes(200, 'o'), headers: { 'Content-Type': 'application/octet-stream' } }));
    assert.equal((await call('PUT', paths.apiNamespaceQuota('acme'), { as: ops, body: { limit: 0 } })).status, 200);
    await asAlice.pushBlob('acme/base', bytes(200, 'o'));
    await asOps.pushBlob('big/x', bytes(5000, 'p'));
  });

  it('members read their namespace; others get 404; only administrators set limits; bad input is 400', async () => {
    assert.equal((await call('GET', paths.apiNamespaceQuota('alice'), { as: alice })).status, 200);
    assert.equal((await call('GET', paths.apiNamespaceQuota('acme'), { as: alice })).status, 200, 'a member of acme');
    assert.equal((await call('GET', paths.apiNamespaceQuota('acme'), { as: bob })).status, 404);
    assert.equal((await call('GET', paths.apiNamespaceQuota('alice'), { as: bob })).status, 404);
    assert.equal((await call('GET', paths.apiNamespaceQuota('nobody'), { as: bob })).status, 404);
    assert.equal((await call('GET', paths.apiNamespaceQuota('alice'))).status, 401);
    assert.equal((await call('GET', paths.apiNamespaceQuota('bob'), { as: ops })).status, 200);
    assert.equal((await call('PUT', paths.apiNamespaceQuota('alice'), { as: alice, body: { limit: '1GiB' } })).status, 403);
    assert.equal((await call('DELETE', paths.apiNamespaceQuota('alice'), { as: alice })).status, 403);
    assert.equal((await call('PUT', paths.apiNamespaceQuota('alice'), { body: { limit: '1GiB' } })).status, 401);
    for (const body of [{ limit: '1 gigabyte' }, { limit: -1 }, { limit: 1.5 }, { limit: '1e30' }, {}, { limit: 1, extra: true }, 'x']) {
      assert.equal((await call('PUT', paths.apiNamespaceQuota('alice'), { as: ops, body })).code, 'REQUEST_INVALID', JSON.stringify(body));
    }
    assert.equal((await call('PUT', paths.apiNamespaceQuota('Not_A_Namespace'), { as: ops, body: { limit: 1 } })).code, 'NAME_INVALID');
    assert.equal((await call('PUT', paths.apiNamespaceQuota('a'.repeat(151)), { as: ops, body: { limit: 1 } })).code, 'NAME_INVALID');
    assert.equal((await call('PUT', paths.apiNamespaceQuota('a'.repeat(150)), { as: ops, body: { limit: 1 } })).status, 200);
    assert.equal((await call('DELETE', paths.apiNamespaceQuota('alice'), { as: ops })).status, 404, 'no limit was set through the API');
    const all = await call('GET', paths.apiAdminQuotas(), { as: ops });
    assert.equal(all.status, 200);
    const names = (all.body as { namespaces: { namespace: string }[] }).namespaces.map((n) => n.namespace);
    assert.ok(['acme', 'alice', 'big', 'bob'].every((n) => names.includes(n)), names.join());
    assert.equal((await call('GET', paths.apiAdminQuotas(), { as: alice })).status, 403);
  });
});
