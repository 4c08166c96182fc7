/**
 * `berth migrate` end to end on real parts: a serving berth on the filesystem and SQLite with
 * users, an access token, visibility, descriptions, stars, pull counts and a few pushed images is
 * migrated, while it runs, into PostgreSQL and Ceph RGW (S3). A berth started on the target
 * config then serves the same tags, manifests and blobs (same digests), logs the same user in
 * with the same password and the same access token, accepts a token the source issued before the
 * migration, and answers searches as the source did. A second run copies nothing. Skips with the
 * reason without PostgreSQL or Ceph (fails under CI=true).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { SYSTEM } from '../../src/auth/principal.ts';
import { runCli } from '../../src/cli/index.ts';
import type { CliIO } from '../../src/cli/command.ts';
import { loadConfig } from '../../src/config/load.ts';
import { startRegistry, type RunningRegistry } from '../../src/main.ts';
import type { MigrateSummary } from '../../src/migrate/migrate.ts';
import { AuthClient, basicHeader } from '../helpers/auth-client.ts';
import { cephTools, startCephS3, type CephS3 } from '../helpers/ceph-s3.ts';
import { PG_SKIP, pgDatabase, type PgFixture } from '../helpers/pg-database.ts';
import { tempDir } from '../helpers/process.ts';

const ceph = cephTools();
const SKIP = PG_SKIP !== false ? PG_SKIP : ceph.skip;
const alice = { user: 'alice', password: 'alice-password-1' };
const bob = { user: 'bob', password: 'bob-password-1' };
const IMAGES: [string, string][] = [
  ['alice/app', 'v1'],
  ['alice/app', 'v2'],
  ['alice/private', 'latest'],
  ['alice/tools', 'stable'],
];
/** Pushed to the source while it runs, after the first migration. */
const LATE: [string, string] = ['alice/late', 'v1'];

/** `berth ARGS` in this process: its exit status, stdout and stderr. */
async function berth(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    stdin: process.stdin,
    env: {},
  };
  const status = await runCli(args, io);
  return { status, stdout, stderr };
}

async function serve(file: string): Promise<{ running: RunningRegistry; url: string }> {
  const { config } = loadConfig({ file, env: {}, overrides: { http: { addr: '127.0.0.1:0' }, log: { level: 'warn' } } });
  const running = await startRegistry(config, pino({ level: 'warn' }));
  return { running, url: `http://127.0.0.1:${running.address.port}` };
}

const sha256 = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** What a registry shows of the images: per image its manifest digest and each blob's digest as served. */
async function content(url: string, images: [string, string][]): Promise<Record<string, unknown>> {
  const client = new AuthClient(url, alice);
  const out: Record<string, unknown> = {};
  for (const [repo, tag] of images) {
    const tags = (await (await client.fetch(`/v2/${repo}/tags/list`)).json()) as { tags: string[] };
    const res = await client.fetch(`/v2/${repo}/manifests/${tag}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(res.status, 200, `${repo}:${tag}`);
    const body = Buffer.from(await res.arrayBuffer());
    const manifest = JSON.parse(body.toString()) as { config: { digest: string }; layers: { digest: string }[] };
    const blobs: string[] = [];
    for (const d of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) {
      const blob = await client.fetch(`/v2/${repo}/blobs/${d}`);
      assert.equal(blob.status, 200, `${repo}@${d}`);
      const bytes = Buffer.from(await blob.arrayBuffer());
      assert.equal(sha256(bytes), d);
      blobs.push(d);
    }
    out[`${repo}:${tag}`] = { tags: tags.tags, digest: res.headers.get('docker-content-digest'), computed: sha256(body), blobs };
  }
  return out;
}

/** The search answers of a registry, for alice and for nobody. */
async function searches(url: string): Promise<unknown[]> {
  const answers: unknown[] = [];
  for (const q of ['app', 'alice', 'tools', 'late', '']) {
    for (const headers of [{ authorization: basicHeader(alice) }, {}] as Record<string, string>[]) {
      const res = await fetch(`${url}/v1/search?q=${q}`, { headers });
      answers.push({ q, status: res.status, body: await res.json() });
    }
  }
  for (const repo of ['alice/app', 'alice/tools']) {
    const res = await fetch(`${url}/api/v1/repositories/${repo}`, { headers: { authorization: basicHeader(alice) } });
    answers.push({ repo, status: res.status, body: await res.json() });
  }
  return answers;
}

describe('berth migrate (filesystem + SQLite to PostgreSQL + S3)', { skip: SKIP, timeout: 300_000 }, () => {
  let dir: string;
  let s3: CephS3;
  let pg: PgFixture;
  let source: { running: RunningRegistry; url: string };
  let sourceStopped: Promise<void> | undefined;
  const stopSource = (): Promise<void> => (sourceStopped ??= source.running.close(1000));
  let sourceFile: string;
  let targetFile: string;
  let issued: string;
  let patSecret: string;
  let expected: { content: Record<string, unknown>; searches: unknown[] };

  before(async () => {
    ceph.check();
    dir = await tempDir('migrate');
    [s3, pg] = await Promise.all([startCephS3(), pgDatabase()]);
    await s3.createBucket('migrated');
    sourceFile = path.join(dir, 'source.yml');
    targetFile = path.join(dir, 'target.yml');
    await fs.writeFile(sourceFile, `storage:\n  filesystem:\n    rootdirectory: ${path.join(dir, 'data')}\n`);
    await fs.writeFile(
      targetFile,
      `database:\n  enabled: true\n  url: ${pg.url}\nstorage:\n  s3:\n    region: us-east-1\n    regionendpoint: ${s3.endpoint}\n    bucket: migrated\n` +
        `    accesskey: ${s3.accessKey}\n    secretkey: ${s3.secretKey}\n    forcepathstyle: true\n    checksums: when_required\n`,
    );
    source = await serve(sourceFile);
    const { accounts } = source.running.access;
    await accounts.createUser(SYSTEM, alice.user, alice.password, true);
    await accounts.createUser(SYSTEM, bob.user, bob.password);
    const client = new AuthClient(source.url, alice);
    for (const [repo, tag] of IMAGES) await client.pushImage(repo, tag, { layer: `layer of ${repo}:${tag} `.repeat(500) });
    await accounts.setVisibility(SYSTEM, 'alice/app', 'public');
    await accounts.setVisibility(SYSTEM, 'alice/private', 'private');
    patSecret = (await accounts.createToken(SYSTEM, 'alice', 'ci', null, null)).secret;
    const index = source.running.search.index;
    await index.describe('alice/app', { description: 'the application of alice', fullDescription: '# app\nlong' });
    await index.star('alice/app', 'bob', true);
    await index.star('alice/tools', 'alice', true);
    await index.addPulls(new Map([['alice/app', 12], ['alice/tools', 3]]));
    const token = await fetch(`${source.url}/auth/token?service=berth&scope=repository:alice/private:pull`, { headers: { authorization: basicHeader(alice) } });
    assert.equal(token.status, 200);
    issued = String(((await token.json()) as { token: string }).token);
  });

  after(async () => {
    if (source !== undefined) await stopSource();
    await pg?.cleanup();
    await s3?.stop();
    if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
  });

  /** What the source serves and answers now, taken as what the target must serve and answer. */
  async function baseline(images: [string, string][]): Promise<void> {
    const served = await content(source.url, images);
    // the pulls just made count before the searches are taken
    await source.running.search.pulls.flush();
    expected = { content: served, searches: await searches(source.url) };
  }

  it('refuses a target without a database, exit 78', async () => {
    const r = await berth(['migrate', '--config', sourceFile, '--to', sourceFile]);
    assert.equal(r.status, 78);
    assert.match(r.stderr, /database\.enabled: the target must keep its metadata in PostgreSQL/);
  });

  it('refuses without --to, exit 2', async () => {
    const r = await berth(['migrate', '--config', sourceFile]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /missing --to/);
  });

  it('a dry run counts and writes nothing', async () => {
    const r = await berth(['migrate', '--config', sourceFile, '--to', targetFile, '--dry-run', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as MigrateSummary;
    assert.equal(summary.blobs.copied, 12);
    const listed = await s3.client.send(new (await import('@aws-sdk/client-s3')).ListObjectsV2Command({ Bucket: 'migrated' }));
    assert.equal(listed.KeyCount ?? 0, 0);
  });

  it('migrates the running registry, verified, without printing the secrets', async () => {
    const r = await berth(['migrate', '--config', sourceFile, '--to', targetFile]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /blobs: 12 in the source, 12 copied/);
    assert.match(r.stdout, /verified: \d+ tables' row counts and 12 blobs/);
    assert.match(r.stdout, /storage\.maintenance\.readonly\.enabled/);
    for (const secret of [s3.secretKey, pg.url]) assert.ok(!(r.stdout + r.stderr).includes(secret), 'a secret was printed');
  });

  it('a second run catches up on what the running source added since', async () => {
    const client = new AuthClient(source.url, alice);
    await client.pushImage(...LATE, { layer: 'a late layer' });
    await source.running.search.index.describe('alice/late', { description: 'pushed during the migration' });
    await baseline([...IMAGES, LATE]);
    // the final pass: the source stopped (or read-only) first
    await stopSource();
    const r = await berth(['migrate', '--config', sourceFile, '--to', targetFile, '--json']);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const summary = JSON.parse(r.stdout) as MigrateSummary;
    // a layer and a manifest: its config is alice/app:v1's (the same bytes)
    assert.deepEqual([summary.blobs.copied, summary.blobs.skipped], [2, 12]);
    assert.equal(summary.tables['manifests']?.written, 1);
    // the late tag, and the four the baseline pulled: a pull moves tags.pulled_at (retention's last-pull time)
    assert.equal(summary.tables['tags']?.written, 5);
    assert.equal(summary.ok, true);
  });

  it('a third run copies nothing', async () => {
    const r = await berth(['migrate', '--config', sourceFile, '--to', targetFile, '--json']);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const summary = JSON.parse(r.stdout) as MigrateSummary;
    assert.equal(summary.blobs.copied, 0);
    assert.equal(summary.blobs.skipped, 14);
    for (const [table, t] of Object.entries(summary.tables)) assert.deepEqual([t.written, t.deleted], [0, 0], table);
    assert.equal(summary.keys.copied, 0);
    assert.deepEqual(summary.verify?.tables, []);
    assert.equal(summary.ok, true);
  });

  it('a berth on the target serves the same content, logins, tokens and searches', async () => {
    const target = await serve(targetFile);
    try {
      // searches first: the pulls of content() count too
      assert.deepEqual(await searches(target.url), expected.searches);
      assert.deepEqual(await content(target.url, [...IMAGES, LATE]), expected.content);
      const login = await fetch(`${target.url}/auth/token?service=berth&scope=repository:alice/private:pull`, { headers: { authorization: basicHeader(alice) } });
      assert.equal(login.status, 200, 'alice logs in with the same password');
      const wrong = await fetch(`${target.url}/v2/`, { headers: { authorization: basicHeader({ user: 'alice', password: 'not it' }) } });
      assert.equal(wrong.status, 401);
      const pat = await fetch(`${target.url}/v2/alice/private/tags/list`, { headers: { authorization: basicHeader({ user: 'alice', password: patSecret }) } });
      assert.equal(pat.status, 200, 'the access token still works');
      const bearer = await fetch(`${target.url}/v2/alice/private/tags/list`, { headers: { authorization: `Bearer ${issued}` } });
      assert.equal(bearer.status, 200, 'a token the source issued verifies on the target');
      const anonymous = await fetch(`${target.url}/v2/alice/private/tags/list`);
      assert.equal(anonymous.status, 401, 'the private repository stays private');
      const bobs = await fetch(`${target.url}/v2/alice/private/tags/list`, { headers: { authorization: basicHeader(bob) } });
      assert.notEqual(bobs.status, 200);
    } finally {
      await target.running.close(1000);
    }
  });
});
