/**
 * Garbage collection end to end, over HTTP on a real filesystem root: what deletes leave behind
 * is freed (files gone from disk), what is referenced stays pullable, dry runs change nothing,
 * the grace and untagged rules hold, runs are recorded, and only administrators may run or see it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SYSTEM } from '../../src/auth/principal.ts';
import { blobDataPath } from '../../src/storage/paths.ts';
import { api } from '../helpers/api.ts';
import { startAuthRegistry, type AuthRegistry } from '../helpers/auth.ts';
import { Client, OCI_INDEX, sha256 } from '../helpers/client.ts';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';

const GC_NOW = { storage: { gc: { grace: '0', interval: '0', untagged: 'delete' as const } } };

interface Report {
  dryRun: boolean;
  manifests: number;
  blobs: number;
  bytes: number;
  repositories: { name: string; manifests: number; blobs: number; bytes: number }[];
  errors: string[];
}

function onDisk(root: string, digest: string): Promise<boolean> {
  const [algorithm = '', hex = ''] = digest.split(':');
  return fs.stat(path.join(root, blobDataPath(algorithm, hex))).then(
    () => true,
    () => false,
  );
}

async function runGc(base: string, dryRun = false): Promise<Report> {
  const res = await api(base)('POST', '/api/v1/admin/gc', { body: { dryRun } });
  assert.equal(res.status, 200, res.text);
  return res.body as Report;
}

describe('garbage collection over HTTP', () => {
  let reg: TestRegistry;
  let client: Client;
  before(async () => {
    reg = await startTestRegistry({ config: GC_NOW });
    client = new Client(reg.url);
  });
  after(() => reg.stop());

  it('frees the blobs and manifest a delete left behind, keeps what another image shares, and reports per repository', async () => {
    const root = reg.root ?? '';
    const a = await client.pushImage('gc/app', 'v1', { layer: 'only in v1' });
    const b = await client.pushImage('gc/app', 'v2', { layer: 'shared layer' });
    const c = await client.pushImage('gc/other', 'v1', { layer: 'shared layer' });
    assert.equal(b.layer.digest, c.layer.digest);
    const before = await runGc(reg.url, true);
    assert.equal(before.blobs, 0, 'nothing to free yet');

    assert.equal((await client.fetch(`/v2/gc/app/manifests/${a.descriptor.digest}`, { method: 'DELETE' })).status, 202);
    assert.equal((await client.fetch(`/v2/gc/app/manifests/${b.descriptor.digest}`, { method: 'DELETE' })).status, 202);
    const dry = await runGc(reg.url, true);
    assert.equal(dry.dryRun, true);
    assert.equal(a.config.digest, c.config.digest, 'gc/other:v1 has the config of gc/app:v1');
    assert.equal(dry.blobs, 4, "v1's layer and manifest, v2's config and manifest");
    for (const d of [a.layer, a.descriptor]) assert.equal(await onDisk(root, d.digest), true, 'a dry run deletes nothing');

    const report = await runGc(reg.url);
    assert.deepEqual(report.errors, []);
    assert.equal(report.blobs, 4);
    assert.equal(report.bytes, a.layer.size + a.descriptor.size + b.config.size + b.descriptor.size);
    assert.deepEqual(report.repositories.map((r) => [r.name, r.blobs]), [['gc/app', 4]]);
    for (const d of [a.layer, a.descriptor, b.config, b.descriptor]) assert.equal(await onDisk(root, d.digest), false, `${d.digest} is gone`);
    assert.equal(await onDisk(root, b.layer.digest), true, 'the shared layer stays');
    assert.equal(await onDisk(root, a.config.digest), true, 'the shared config stays');
    assert.equal((await client.fetch(`/v2/gc/app/blobs/${a.layer.digest}`)).status, 404);
    const pulled = await client.fetch(`/v2/gc/other/blobs/${c.layer.digest}`);
    assert.equal(pulled.status, 200);
    assert.equal(sha256(Buffer.from(await pulled.arrayBuffer())), c.layer.digest);
    assert.equal((await client.fetch('/v2/gc/other/manifests/v1')).status, 200);
    assert.equal((await runGc(reg.url)).blobs, 0, 'the next run has nothing left');
  });

  it('collects untagged manifests but never an index child; a re-pushed blob comes back', async () => {
    const old = await client.pushImage('gc/untag', 'latest', { layer: 'old' });
    await client.pushImage('gc/untag', 'latest', { layer: 'new' });
    const child = await client.pushImage('gc/untag', 'child', { layer: 'child layer' });
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [child.descriptor] };
    assert.equal((await client.putManifest('gc/untag', 'multi', index, OCI_INDEX)).status, 201);
    assert.equal((await client.fetch('/v2/gc/untag/manifests/child', { method: 'DELETE' })).status, 202);
    const report = await runGc(reg.url);
    assert.deepEqual(report.repositories.find((r) => r.name === 'gc/untag')?.manifests, 1, 'the old latest only');
    assert.equal((await client.fetch(`/v2/gc/untag/manifests/${old.descriptor.digest}`)).status, 404);
    assert.equal((await client.fetch(`/v2/gc/untag/manifests/${child.descriptor.digest}`)).status, 200, "the index's child stays");
    assert.equal((await client.fetch('/v2/gc/untag/manifests/latest')).status, 200);
    // pushed again after its collection: stored and served again
    const again = await client.pushImage('gc/untag', 'back', { layer: 'old' });
    assert.equal(again.layer.digest, old.layer.digest);
    assert.equal(await onDisk(reg.root ?? '', old.layer.digest), true);
    assert.equal((await client.fetch(`/v2/gc/untag/blobs/${old.layer.digest}`)).status, 200);
  });

  it('records runs and shows the queues and what a run would free now', async () => {
    const res = await api(reg.url)('GET', '/api/v1/admin/gc');
    assert.equal(res.status, 200);
    const body = res.body as { settings: { graceSeconds: number; untagged: string }; runs: { trigger: string; dryRun: boolean; report: Report | null }[]; reclaimable: { blobs: number }; queued: { blobs: number } };
    assert.deepEqual(body.settings, { intervalSeconds: 0, graceSeconds: 0, untagged: 'delete' });
    assert.ok(body.runs.length >= 5);
    assert.equal(body.runs[0]?.trigger, 'api');
    assert.equal(typeof body.reclaimable.blobs, 'number');
    assert.equal((await api(reg.url)('POST', '/api/v1/admin/gc', { body: { dryRun: 'yes' } })).status, 400);
    assert.equal((await api(reg.url)('POST', '/api/v1/admin/gc', { body: { what: 1 } })).status, 400);
  });
});

describe('garbage collection with the default grace', () => {
  it('frees nothing deleted less than an hour ago', async () => {
    const reg = await startTestRegistry({ config: { storage: { gc: { interval: '0' } } } });
    try {
      const client = new Client(reg.url);
      const a = await client.pushImage('grace/app', 'v1');
      assert.equal((await client.fetch(`/v2/grace/app/manifests/${a.descriptor.digest}`, { method: 'DELETE' })).status, 202);
      await client.pushBlob('grace/app', 'uploaded, its manifest not yet');
      const report = await runGc(reg.url);
      assert.equal(report.blobs, 0);
      assert.equal(await onDisk(reg.root ?? '', a.layer.digest), true);
    } finally {
      await reg.stop();
    }
  });
});

describe('garbage collection access', () => {
  let reg: AuthRegistry;
  const admin = { user: 'boss', password: 'boss-password-1' };
  const alice = { user: 'alice', password: 'alice-password-1' };
  before(async () => {
    reg = await startAuthRegistry(GC_NOW);
    await reg.accounts.createUser(SYSTEM, admin.user, admin.password, true);
    await reg.accounts.createUser(SYSTEM, alice.user, alice.password, false);
  });
  after(() => reg.stop());

  it('refuses anonymous callers and users who are not administrators, for reading and for running', async () => {
    const call = api(reg.url);
    for (const method of ['GET', 'POST']) {
      assert.equal((await call(method, '/api/v1/admin/gc')).status, 401, `${method} anonymous`);
      const res = await call(method, '/api/v1/admin/gc', { as: alice });
      assert.equal(res.status, 403, `${method} alice`);
      assert.equal(res.code, 'DENIED');
    }
    assert.equal((await call('GET', '/api/v1/admin/gc', { as: admin })).status, 200);
    assert.equal((await call('POST', '/api/v1/admin/gc', { as: admin, body: { dryRun: true } })).status, 200);
  });
});
