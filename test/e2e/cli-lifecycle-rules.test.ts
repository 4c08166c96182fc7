/**
 * `berth quota` and `berth immutable` beside a running berth on the same data directory (issue
 * 15): the server reads the settings store at every check, so a limit set by the CLI refuses the
 * next push past it with 403 DENIED (used and limit in the detail), 0 lifts it and unset restores
 * the config's; a rule added by the CLI refuses moving and deleting a held tag, naming the rule as
 * berth-cli's, until the CLI removes it. The CLI's list agrees with the server's API.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runBerth } from '../../src/cli/test-support.ts';
import { paths } from '../../src/http/routes.ts';
import { Client, OCI_MANIFEST, sha256 } from '../helpers/client.ts';
import { startTestRegistry, useTestRegistry, type TestRegistry } from '../helpers/inproc.ts';
import { PG_SKIP, pgDatabase, type PgFixture } from '../helpers/pg-database.ts';

interface Denied {
  code: string;
  message: string;
  detail: Record<string, unknown>;
}

async function deniedOf(res: Response, message: RegExp): Promise<Denied> {
  assert.equal(res.status, 403);
  const error = ((await res.json()) as { errors: Denied[] }).errors[0] as Denied;
  assert.equal(error.code, 'DENIED');
  assert.match(error.message, message);
  return error;
}

/** A monolithic blob upload's response. */
function upload(client: Client, repo: string, data: Buffer): Promise<Response> {
  return client.fetch(`/v2/${repo}/blobs/uploads/?digest=${sha256(data)}`, { method: 'POST', body: new Uint8Array(data), headers: { 'Content-Type': 'application/octet-stream' } });
}

/** PUT an image manifest of one layer under `tag` (its blobs pushed first). */
async function putImage(client: Client, repo: string, tag: string, layer: string): Promise<Response> {
  const config = await client.pushBlob(repo, `{"layer":"${layer}"}`, 'application/vnd.oci.image.config.v1+json');
  const l = await client.pushBlob(repo, layer, 'application/vnd.oci.image.layer.v1.tar+gzip');
  return client.putManifest(repo, tag, { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [l] }, OCI_MANIFEST);
}

/** Ask `probe` again (each time on the next turn of the event loop) until it says yes; fails after 10 s. */
async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await probe())) {
    if (Date.now() > deadline) assert.fail(`not within 10 s: ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('berth quota and berth immutable beside a running berth', () => {
  const access = { quota: { namespaces: { acme: '1MiB' } }, immutable: [{ repository: 'acme/*', tags: ['stable'] }] };
  const t = useTestRegistry({ config: { storage: { delete: { enabled: true } }, access } });
  let berth: (...argv: string[]) => ReturnType<typeof runBerth>;
  before(async () => {
    const root = t.reg.root ?? '';
    const file = path.join(root, 'cli.yml');
    await fs.writeFile(file, JSON.stringify({ storage: { filesystem: { rootdirectory: root }, delete: { enabled: true } }, access }));
    berth = (...argv) => runBerth([...argv, '--config', file]);
  });

  it('a limit set by the CLI refuses the next push past it; 0 lifts it; unset restores the config', async () => {
    await t.client.pushBlob('alice/app', Buffer.alloc(600, 'a'));
    const set = await berth('quota', 'set', 'alice', '1KiB');
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, 'alice is limited to 1.0 KiB (1024 bytes); it holds 600 B\n');

    const over = Buffer.alloc(600, 'b');
    const refused = await deniedOf(await upload(t.client, 'alice/app', over), /namespace alice is over its quota/);
    assert.deepEqual(refused.detail, { namespace: 'alice', used: 600, limit: 1024, size: 600 });
    assert.equal((await t.client.fetch(`/v2/alice/app/blobs/${sha256(over)}`, { method: 'HEAD' })).status, 404, 'not stored');
    assert.equal((await upload(t.client, 'alice/other', Buffer.alloc(600, 'a'))).status, 201, 'a blob alice holds passes');

    // what the CLI lists is what the server's API answers
    const cli = JSON.parse((await berth('quota', 'list', '--json')).stdout) as { namespaces: { namespace: string; used: number; limit: number; source: string; updatedBy: string | null }[] };
    const api = (await (await t.client.fetch(paths.apiAdminQuotas())).json()) as typeof cli;
    assert.deepEqual(cli, api);
    assert.deepEqual(
      cli.namespaces.map((q) => [q.namespace, q.used, q.limit, q.source, q.updatedBy]),
      [
        ['acme', 0, 1048576, 'config', null],
        ['alice', 600, 1024, 'api', 'berth-cli'],
      ],
    );

    assert.equal((await berth('quota', 'set', 'alice', '0')).code, 0);
    assert.equal((await upload(t.client, 'alice/app', over)).status, 201, 'a limit of 0 is none');
    // a limit again: counted afresh, not from before the unlimited push (within the server's 10 s reuse of a count)
    assert.equal((await berth('quota', 'set', 'alice', '1KiB')).code, 0);
    const again = await deniedOf(await upload(t.client, 'alice/app', Buffer.alloc(10, 'c')), /holds 1\.1 KiB of 1 KiB/);
    assert.deepEqual(again.detail, { namespace: 'alice', used: 1200, limit: 1024, size: 10 });
    assert.equal((await berth('quota', 'unset', 'alice')).code, 0);
    assert.equal((await upload(t.client, 'alice/app', Buffer.alloc(10, 'c'))).status, 201, 'the config sets no limit for alice');
    const acme = await berth('quota', 'show', 'acme');
    assert.match(acme.stdout, /^acme\n {2}used +0 B \(0 bytes\)\n {2}limit +1\.0 MiB \(1048576 bytes\)\n {2}source +config\n$/);
  });

  it('a rule added by the CLI refuses moving and deleting the tag, naming it; removing it lets both through', async () => {
    const first = await putImage(t.client, 'bob/app', 'v1', 'one');
    assert.equal(first.status, 201);
    const digest = first.headers.get('docker-content-digest') ?? '';
    assert.equal((await putImage(t.client, 'bob/app', 'v1', 'two')).status, 201, 'no rule yet: the tag moves');
    const moved = (await putImage(t.client, 'bob/app', 'v1', 'one')).headers.get('docker-content-digest');
    assert.equal(moved, digest);

    const add = await berth('immutable', 'add', 'bob/*', 'v*');
    assert.equal(add.code, 0, add.stderr);
    const refused = await deniedOf(await putImage(t.client, 'bob/app', 'v1', 'two'), /tag "v1" of bob\/app is immutable .*\(rule: repository "bob\/\*", tags "v\*" \(set by berth-cli\)\)/);
    assert.deepEqual(refused.detail, { repository: 'bob/app', tag: 'v1', digest, rule: { repository: 'bob/*', tags: ['v*'], source: 'api' } });
    await deniedOf(await t.client.fetch('/v2/bob/app/manifests/v1', { method: 'DELETE' }), /tag "v1" of bob\/app is immutable: it cannot be deleted/);
    assert.equal((await putImage(t.client, 'bob/app', 'v1', 'one')).status, 201, 'the same manifest again is fine');
    assert.equal((await putImage(t.client, 'bob/app', 'dev', 'two')).status, 201, 'a tag no glob holds moves');

    // the server's API lists the CLI's rule beside the config's
    const rules = (await (await t.client.fetch(paths.apiAdminImmutable())).json()) as { rules: { repository: string; source: string; updatedBy: string | null }[] };
    assert.deepEqual(rules.rules.map((r) => [r.repository, r.source, r.updatedBy]), [['acme/*', 'config', null], ['bob/*', 'api', 'berth-cli']]);

    assert.equal((await berth('immutable', 'remove', 'bob/*')).code, 0);
    assert.equal((await putImage(t.client, 'bob/app', 'v1', 'two')).status, 201, 'the rule is lifted: the tag moves');
    assert.equal((await t.client.fetch('/v2/bob/app/manifests/v1', { method: 'DELETE' })).status, 202);
  });

  it('lifting a config rule with the CLI lets the server move its tag', async () => {
    assert.equal((await putImage(t.client, 'acme/app', 'stable', 'one')).status, 201);
    await deniedOf(await putImage(t.client, 'acme/app', 'stable', 'two'), /\(access\.immutable in the config\)/);
    assert.equal((await berth('immutable', 'remove', 'acme/*')).code, 0);
    assert.equal((await putImage(t.client, 'acme/app', 'stable', 'two')).status, 201);
  });
});

/**
 * The same on PostgreSQL, where each node keeps a copy of the settings and drops it when the
 * table's NOTIFY arrives: the running berth holds pushes to the CLI's edits as soon as its own
 * API shows them (the notification takes milliseconds; waited for, never slept on).
 */
describe('berth quota and berth immutable beside a running berth on PostgreSQL', { skip: PG_SKIP }, () => {
  let pg: PgFixture;
  let reg: TestRegistry;
  let berth: (...argv: string[]) => ReturnType<typeof runBerth>;
  before(async () => {
    pg = await pgDatabase();
    const database = { enabled: true, url: pg.url };
    reg = await startTestRegistry({ config: { database } });
    const file = path.join(reg.root ?? '', 'cli.yml');
    await fs.writeFile(file, JSON.stringify({ database, storage: { filesystem: { rootdirectory: reg.root } } }));
    berth = (...argv) => runBerth([...argv, '--config', file]);
  });
  after(async () => {
    await reg.stop();
    await pg.cleanup();
  });

  it("a limit and a rule set by the CLI hold the server's next push", async () => {
    const client = new Client(reg.url);
    await client.pushBlob('alice/app', Buffer.alloc(600, 'a'));
    assert.equal((await berth('quota', 'set', 'alice', '1KiB')).code, 0);
    await until('the server reads the limit', async () => ((await (await client.fetch(paths.apiNamespaceQuota('alice'))).json()) as { limit: number }).limit === 1024);
    const refused = await deniedOf(await upload(client, 'alice/app', Buffer.alloc(600, 'b')), /namespace alice is over its quota/);
    assert.deepEqual(refused.detail, { namespace: 'alice', used: 600, limit: 1024, size: 600 });

    assert.equal((await putImage(client, 'bob/app', 'v1', 'one')).status, 201);
    assert.equal((await berth('immutable', 'add', 'bob/*', 'v*')).code, 0);
    await until('the server reads the rule', async () => ((await (await client.fetch(paths.apiAdminImmutable())).json()) as { rules: unknown[] }).rules.length === 1);
    await deniedOf(await putImage(client, 'bob/app', 'v1', 'two'), /\(set by berth-cli\)/);
    assert.equal((await berth('immutable', 'remove', 'bob/*')).code, 0);
    await until('the server reads the rule lifted', async () => ((await (await client.fetch(paths.apiAdminImmutable())).json()) as { rules: unknown[] }).rules.length === 0);
    assert.equal((await putImage(client, 'bob/app', 'v1', 'two')).status, 201);
  });
});
