/**
 * The kill -9 during garbage collection suite (issue 15: "kill -9 at any point of a run loses
 * nothing referenced and leaves no dangling reference; the next run finishes the job"), run on each
 * meta store by test/gc/crash.test.ts (SQLite) and crash-postgres.test.ts. A berth serves a
 * filesystem root with live images, 100 untagged manifests, 12 deleted by digest and 1000 blobs no
 * manifest references (grace 0: all garbage); `berth gc` runs beside it as a real process and is
 * killed -9 at points of its run seen from outside, in the meta store and on disk. The run is
 * stepped and frozen there first (killable.ts), so the kill lands where the state was seen:
 *   1. midway through the manifest phase: half the untagged manifests deleted, no blob marked;
 *   2. midway through the deletion of bytes: earlier pages done, a page marked (records gone), its
 *      files partly deleted;
 *   3. in the next run, while it finishes the marks that kill left (renewed, not yet dropped).
 * After each: every live tag pulls with matching digests, every blob a record names is on disk,
 * the killed run is recorded unfinished, and the server takes pushes. Then a run to completion
 * frees every garbage file and manifest (the marked ones included: it fails if a run does not
 * reclaim a dead run's marks), and the run after it frees nothing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { after, before, describe, it } from 'node:test';
import { blobDataPath } from '../../src/storage/paths.ts';
import { api } from './api.ts';
import { OCI_MANIFEST, sha256, type Descriptor } from './client.ts';
import { startTestRegistry, type TestRegistry } from './inproc.ts';
import { killWhen, spawnKillable } from './killable.ts';

/**
 * Reads of the meta store from outside the server and the collector. SQL is written for
 * PostgreSQL ($1 parameters, each used once in order; `= ANY($n)` over an array); SQLite's reader
 * translates it.
 */
export interface MetaReader {
  count(sql: string, ...params: unknown[]): Promise<number>;
  column(sql: string, ...params: unknown[]): Promise<unknown[]>;
  close(): Promise<void>;
}

/** The SQLite file a berth on `root` keeps by default, read-only. */
export function sqliteReader(root: string): MetaReader {
  const db = new Database(path.join(root, 'berth.db'), { readonly: true, fileMustExist: true });
  const prepare = (sql: string) => db.prepare(sql.replace(/= ANY\(\$\d+\)/g, 'IN (SELECT value FROM json_each(?))').replace(/\$\d+/g, '?'));
  const bind = (params: unknown[]) => params.map((p) => (Array.isArray(p) ? JSON.stringify(p) : p));
  return {
    count: async (sql, ...params) => Number(Object.values(prepare(sql).get(...bind(params)) as object)[0]),
    column: async (sql, ...params) => prepare(sql).pluck().all(...bind(params)),
    close: async () => void db.close(),
  };
}

/** A PostgreSQL database, by URL. */
export function postgresReader(url: string): MetaReader {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const rows = async (sql: string, params: unknown[]) => (await pool.query({ text: sql, values: params, rowMode: 'array' })).rows as unknown[][];
  return {
    count: async (sql, ...params) => Number((await rows(sql, params))[0]?.[0]),
    column: async (sql, ...params) => (await rows(sql, params)).map((r) => r[0]),
    close: () => pool.end(),
  };
}

export interface CrashBackend {
  /** The config's meta store part, for the server and for `berth gc` (undefined: SQLite under the root). */
  database?: { enabled: true; url: string };
  reader(root: string): MetaReader;
  cleanup?(): Promise<void>;
}

const GC = { grace: '0', interval: '0', untagged: 'delete' as const };
const REPOS = ['crash/a', 'crash/b', 'crash/c', 'crash/d'];
/** Pushes of :moving per repository before its last one: each leaves a manifest untagged. */
const MOVES = 25;
/** Images per repository deleted by digest. */
const DELETED = 3;
/** Blobs pushed with no manifest. */
const LOOSE = 1000;
/** Base layers every kind of image shares: live ones keep them whatever is collected. */
const BASES = ['base one ', 'base two '].map((s) => Buffer.from(s.repeat(40)));
const REQUEST_MS = 10_000;
const CLI_MS = 60_000;
const CONFIG_TYPE = 'application/vnd.oci.image.config.v1+json';
const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';

interface Image {
  repo: string;
  tag: string;
  digest: string;
  blobs: Descriptor[];
}

/** `fn` over `items`, `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: n }, worker));
}

/** The suite, on the meta store `backend` gives (called inside the test file's describe, or as it). */
export function gcCrashSuite(name: string, backend: () => Promise<CrashBackend>, opts: { skip?: string | false } = {}): void {
  describe(name, { timeout: 120_000, skip: opts.skip ?? false }, () => {
    let reg: TestRegistry;
    let root: string;
    let configFile: string;
    let cb: CrashBackend;
    let db: MetaReader;
    const live: Image[] = [];
    const untagged: Image[] = [];
    const deleted: Image[] = [];
    /** Every blob the dataset made garbage, in digest order (the order a run deletes them in). */
    let garbage: string[] = [];

    const http = (p: string, init: RequestInit = {}): Promise<Response> => fetch(reg.url + p, { ...init, signal: AbortSignal.timeout(REQUEST_MS) });
    const fileOf = (digest: string): string => {
      const [algorithm = '', hex = ''] = digest.split(':');
      return path.join(root, blobDataPath(algorithm, hex));
    };
    const present = (digests: string[]): number => digests.filter((d) => existsSync(fileOf(d))).length;
    const manifestsLeft = (images: Image[]): Promise<number> =>
      db.count('SELECT COUNT(*) FROM manifests WHERE digest = ANY($1)', images.map((i) => i.digest));
    const marks = (): Promise<number> => db.count('SELECT COUNT(*) FROM gc_blob_deleting');

    async function pushBlob(repo: string, data: Buffer, mediaType: string): Promise<Descriptor> {
      const digest = sha256(data);
      const res = await http(`/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: Buffer.from(data), headers: { 'Content-Type': 'application/octet-stream' } });
      assert.equal(res.status, 201, await res.text());
      return { mediaType, digest, size: data.length };
    }

    async function pushImage(repo: string, tag: string, layers: Buffer[]): Promise<Image> {
      const config = await pushBlob(repo, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, repo, tag, nonce: randomBytes(8).toString('hex') })), CONFIG_TYPE);
      const descriptors: Descriptor[] = [];
      for (const layer of layers) descriptors.push(await pushBlob(repo, layer, LAYER_TYPE));
      const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: descriptors });
      const res = await http(`/v2/${repo}/manifests/${tag}`, { method: 'PUT', body, headers: { 'Content-Type': OCI_MANIFEST } });
      assert.equal(res.status, 201, await res.text());
      return { repo, tag, digest: sha256(body), blobs: [config, ...descriptors] };
    }

    /** A layer no other image has. */
    const own = (what: string): Buffer => Buffer.from(`${what} ${randomBytes(16).toString('hex')}`);

    /** `berth gc --json` on the registry's root, as a real process. */
    const gc = () =>
      spawnKillable(process.execPath, ['bin/berth.js', 'gc', '--config', configFile, '--json'], {
        env: { BERTH_FROM_SOURCE: '1', REGISTRY_CONFIGURATION_PATH: undefined, REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: undefined, REGISTRY_LOG_LEVEL: 'warn' },
        timeoutMs: CLI_MS,
      });
    /** Once the run has recorded its start: its work begins. */
    const started = async (): Promise<() => Promise<boolean>> => {
      const runs = () => db.count('SELECT COUNT(*) FROM gc_runs');
      const before = await runs();
      return async () => (await runs()) > before;
    };

    before(async () => {
      cb = await backend();
      const database = cb.database === undefined ? {} : { database: cb.database };
      reg = await startTestRegistry({ config: { ...database, storage: { delete: { enabled: true }, gc: GC } } });
      root = reg.root ?? '';
      configFile = path.join(root, 'gc.json');
      await fs.writeFile(configFile, JSON.stringify({ ...database, storage: { filesystem: { rootdirectory: root }, delete: { enabled: true }, gc: GC } }));
      await pool(REPOS, REPOS.length, async (repo) => {
        for (const [i, base] of BASES.entries()) live.push(await pushImage(repo, `v${i + 1}`, [base, own(`${repo} v${i + 1}`)]));
        for (let n = 0; n <= MOVES; n++) {
          const image = await pushImage(repo, 'moving', [BASES[n % 2] as Buffer, own(`${repo} moving ${n}`)]);
          (n < MOVES ? untagged : live).push(image);
        }
        for (let k = 0; k < DELETED; k++) {
          const image = await pushImage(repo, `gone-${k}`, [BASES[k % 2] as Buffer, own(`${repo} gone ${k}`)]);
          assert.equal((await http(`/v2/${repo}/manifests/${image.digest}`, { method: 'DELETE' })).status, 202);
          deleted.push(image);
        }
      });
      const loose: string[] = [];
      await pool(Array.from({ length: LOOSE }, (_, i) => i), 8, async (i) => {
        loose.push((await pushBlob(REPOS[i % REPOS.length] ?? '', randomBytes(64), LAYER_TYPE)).digest);
      });
      const kept = new Set(live.flatMap((i) => [i.digest, ...i.blobs.map((b) => b.digest)]));
      garbage = [...new Set([...untagged, ...deleted].flatMap((i) => [i.digest, ...i.blobs.map((b) => b.digest)]).concat(loose))].filter((d) => !kept.has(d)).sort();
      assert.equal(garbage.length, (untagged.length + deleted.length) * 3 + LOOSE, 'each garbage image: its manifest, config and own layer');
      assert.equal(untagged.length, REPOS.length * MOVES);
      db = cb.reader(root);
      assert.equal(await manifestsLeft(untagged), untagged.length);
      assert.equal(present(garbage), garbage.length);
    });

    after(async () => {
      await db?.close();
      await reg?.stop();
      await cb?.cleanup?.();
    });

    /** Every live tag pulls, digests matching; every blob a record names is on disk; pushes work. */
    async function assertIntact(what: string): Promise<void> {
      await pool(live, 8, async (image) => {
        const res = await http(`/v2/${image.repo}/manifests/${image.tag}`, { headers: { Accept: OCI_MANIFEST } });
        assert.equal(res.status, 200, `${what}: ${image.repo}:${image.tag}`);
        assert.equal(sha256(Buffer.from(await res.arrayBuffer())), image.digest, `${what}: ${image.repo}:${image.tag} is the image pushed`);
        for (const blob of image.blobs) {
          const got = await http(`/v2/${image.repo}/blobs/${blob.digest}`);
          assert.equal(got.status, 200, `${what}: ${image.repo}@${blob.digest}`);
          assert.equal(sha256(Buffer.from(await got.arrayBuffer())), blob.digest, `${what}: ${blob.digest} intact`);
        }
      });
      const named = (await db.column(
        `SELECT digest FROM blobs UNION SELECT digest FROM manifests
         UNION SELECT child_digest FROM manifest_references WHERE kind = 'blob'`,
      )) as string[];
      assert.deepEqual(named.filter((d) => !existsSync(fileOf(d))), [], `${what}: a record names a blob whose file is gone`);
      const image = await pushImage('crash/after', what, [own('after')]);
      const res = await http(`/v2/crash/after/manifests/${what}`, { headers: { Accept: OCI_MANIFEST } });
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), image.digest, `${what}: a push after the kill pulls back`);
    }

    /** Whether each recorded collection, newest first, is unfinished (finishedAt null: killed); all are berth gc's. */
    async function unfinishedRuns(): Promise<boolean[]> {
      const res = await api(reg.url)('GET', '/api/v1/admin/gc');
      assert.equal(res.status, 200, res.text);
      const runs = (res.body as { runs: { trigger: string; finishedAt: string | null }[] }).runs;
      assert.ok(runs.every((r) => r.trigger === 'cli'));
      return runs.map((r) => r.finishedAt === null);
    }

    it('a run killed midway through its manifest phase loses nothing', async () => {
      const midway = async (): Promise<boolean> => {
        const left = await manifestsLeft(untagged);
        return left > 0 && left <= untagged.length / 2 && (await marks()) === 0;
      };
      const after = await started();
      const killed = await killWhen(gc(), 'midway through the manifest phase', { after, confirm: midway });
      assert.equal(killed.signal, 'SIGKILL');
      await assertIntact('killed-in-manifests');
      assert.equal(present(garbage), garbage.length, 'no bytes deleted yet');
      assert.deepEqual(await unfinishedRuns(), [true], 'the killed run never finished');
    });

    /** The marks the second kill left, and how many garbage blobs were still recorded then. */
    let marked: string[] = [];
    let recordedAtKill = 0;
    it('a run killed midway through deleting bytes (a page of blobs marked, its files partly gone) loses nothing', async () => {
      const middle = fileOf(garbage[Math.floor(garbage.length / 2)] ?? '');
      // the middle file gone: the pages before it done; marks: a page in deletion; files left: not the last
      const midway = async (): Promise<boolean> => (await marks()) > 0 && !existsSync(middle) && present(garbage) > 0;
      // stepped from the end of its manifest phase (the rest of the phase the first kill left)
      const after = async (): Promise<boolean> => (await manifestsLeft(untagged)) === 0;
      const killed = await killWhen(gc(), 'midway through the deletion of bytes', { after, confirm: midway }, { everyMs: 5 });
      assert.equal(killed.signal, 'SIGKILL');
      marked = (await db.column('SELECT digest FROM gc_blob_deleting')) as string[];
      recordedAtKill = await db.count('SELECT COUNT(*) FROM blobs WHERE digest = ANY($1)', garbage);
      assert.ok(marked.length > 0 && present(marked) > 0, 'the kill left marks whose files are still there');
      assert.ok(marked.every((d) => garbage.includes(d)), 'only garbage is marked');
      assert.equal(await manifestsLeft(untagged), 0, 'its manifest phase had finished');
      await assertIntact('killed-in-bytes');
      assert.deepEqual(await unfinishedRuns(), [true, true]);
    });

    it("a run killed while it finishes the dead run's marks (renewed, not yet dropped) loses nothing", async () => {
      const renewedAfter = Math.max(...(await db.column('SELECT expires_at FROM gc_blob_deleting')).map(Number));
      const renewing = async (): Promise<boolean> =>
        (await db.count('SELECT COUNT(*) FROM gc_blob_deleting WHERE expires_at > $1 AND digest = ANY($2)', renewedAfter, marked)) === marked.length;
      const after = await started();
      const killed = await killWhen(gc(), 'while reclaiming marks', { after, confirm: renewing });
      assert.equal(killed.signal, 'SIGKILL');
      await assertIntact('killed-in-reclaim');
      assert.deepEqual(await unfinishedRuns(), [true, true, true]);
    });

    it('the next run finishes the job, the dead runs\' marks included, and the run after frees nothing', async () => {
      const done = await gc().exited;
      assert.equal(done.code, 0, done.stderr);
      const report = JSON.parse(done.stdout) as { blobs: number; manifests: number; deferred: number; errors: string[] };
      assert.deepEqual(report.errors, []);
      assert.equal(present(garbage), 0, `every garbage file gone (${marked.length} were marked by a killed run)`);
      assert.equal(await marks(), 0, 'no mark left');
      assert.equal(report.blobs, recordedAtKill, 'the garbage still recorded: the marked blobs were finished before, uncounted');
      assert.equal(await manifestsLeft([...untagged, ...deleted]), 0);
      for (const image of [...untagged, ...deleted]) {
        assert.equal((await http(`/v2/${image.repo}/manifests/${image.digest}`, { method: 'HEAD' })).status, 404, `${image.repo}@${image.digest}`);
      }
      await assertIntact('after-the-finishing-run');

      const again = await gc().exited;
      assert.equal(again.code, 0, again.stderr);
      const second = JSON.parse(again.stdout) as typeof report;
      assert.deepEqual([second.blobs, second.manifests, second.deferred, second.errors], [0, 0, 0, []], 'nothing left to free');
      assert.deepEqual(await unfinishedRuns(), [false, false, true, true, true]);
    });
  });
}
