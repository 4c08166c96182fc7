/**
 * fsck on a SQLite meta store and the memory driver: a clean registry is clean; each kind of
 * problem is found once; --repair fixes what it can (journal restores, quarantine, forgetting
 * what nothing needs, orphans only when asked and old enough) and a second run agrees; hashing a
 * blob far larger than memory would allow keeps memory flat.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { SqliteBlobInventory } from '../meta/sqlite/inventory.ts';
import { SqliteMetaStore } from '../meta/sqlite/sqlite-store.ts';
import type { NewManifest } from '../meta/store.ts';
import { silentProgress } from '../migrate/progress.ts';
import { MemoryDriver } from '../storage/drivers/memory.ts';
import { blobDataPath } from '../storage/paths.ts';
import { fsck, type FsckOptions, type FsckReport } from './fsck.ts';
import { hashStored } from './fsck-scan.ts';

const digestOf = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const pathOf = (digest: string): string => blobDataPath('sha256', digest.slice(7));

function manifest(digest: string, size: number, blobs: string[], children: string[] = []): NewManifest {
  return { digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size, artifactType: null, subject: null, annotations: null, createdAt: 1, blobs, children };
}

describe('fsck', () => {
  let dir: string;
  let meta: SqliteMetaStore;
  let driver: MemoryDriver;
  let run: (opts?: Partial<FsckOptions>) => Promise<FsckReport>;

  /** A blob stored and recorded in `repo`, optionally journaled. */
  const blob = async (repo: string, text: string, journal = false): Promise<string> => {
    const data = Buffer.from(text);
    const digest = digestOf(data);
    await driver.putContent(pathOf(digest), data);
    await meta.linkBlob(repo, { digest, size: data.length }, journal ? { journal: data } : {});
    return digest;
  };
  /** An image: config, layer and manifest, all stored and recorded. */
  const image = async (repo: string, tag: string): Promise<{ config: string; layer: string; manifest: string }> => {
    const config = await blob(repo, `config of ${repo}:${tag}`);
    const layer = await blob(repo, `layer of ${repo}:${tag}`);
    const body = Buffer.from(JSON.stringify({ config, layers: [layer], tag }));
    const digest = digestOf(body);
    await driver.putContent(pathOf(digest), body);
    await meta.putManifest(repo, manifest(digest, body.length, [config, layer]), tag);
    return { config, layer, manifest: digest };
  };
  const kinds = (r: FsckReport): string[] => r.problems.map((p) => `${p.kind} ${p.digest ?? p.path}`).sort();

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-fsck-'));
    meta = new SqliteMetaStore(path.join(dir, 'meta.db'));
    driver = new MemoryDriver();
    const inventory = new SqliteBlobInventory(meta.database);
    run = (opts = {}) => fsck({ driver, meta, inventory, progress: silentProgress, ...opts });
  });
  afterEach(async () => {
    await meta.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('finds nothing wrong with a consistent registry, and nothing on an empty one', async () => {
    assert.deepEqual(kinds(await run()), []);
    await image('r/app', 'v1');
    await image('r/app', 'v2');
    await blob('r/other', 'an upload no manifest references yet');
    const report = await run();
    assert.deepEqual(kinds(report), []);
    assert.equal(report.ok, true);
    assert.equal(report.blobs, 7);
    assert.equal(report.files, 7);
  });

  it('finds each kind of problem once, and repairs what it can', async () => {
    const a = await image('r/app', 'v1');
    const b = await image('r/app', 'v2');
    const unneeded = await blob('r/app', 'uploaded, never referenced');
    const unneededCorrupt = await blob('r/app', 'uploaded, then corrupted');
    const journaled = await blob('r/app', 'journaled, file lost', true);
    const badCopy = Buffer.from('journaled, copy torn');
    const badCopyDigest = await blob('r/app', badCopy.toString(), true);
    meta.database.prepare('UPDATE blob_journal SET data = ? WHERE digest = ?').run(Buffer.from('torn'), badCopyDigest);
    await driver.putContent(pathOf(a.layer), Buffer.from('flipped bits'));
    await driver.delete(pathOf(b.config));
    await driver.delete(pathOf(unneeded));
    await driver.putContent(pathOf(unneededCorrupt), Buffer.from('garbage'));
    await driver.delete(pathOf(journaled));
    const orphan = digestOf('nothing records me');
    await driver.putContent(pathOf(orphan), Buffer.from('nothing records me'));
    await driver.putContent('/blobs/sha256/zz/not-a-blob', Buffer.from('?'));
    const ghost = digestOf('never pushed');
    const ghostManifest = Buffer.from('ghost manifest');
    await driver.putContent(pathOf(digestOf(ghostManifest)), ghostManifest);
    await meta.putManifest('r/app', manifest(digestOf(ghostManifest), ghostManifest.length, [ghost]), 'ghost');

    const found = await run();
    assert.deepEqual(kinds(found), [
      `corrupt ${a.layer}`,
      `corrupt ${unneededCorrupt}`,
      `dangling ${ghost}`,
      `missing ${b.config}`,
      `missing ${unneeded}`,
      `orphan ${orphan}`,
      'stray /blobs/sha256/zz/not-a-blob',
      `torn-journal ${badCopyDigest}`,
      `torn-journal ${journaled}`,
    ].sort());
    assert.equal(found.ok, false);
    assert.deepEqual(found.problems.find((p) => p.digest === a.layer)?.neededBy, [`r/app@${a.manifest}`]);
    assert.deepEqual(found.problems.find((p) => p.digest === unneeded)?.neededBy, []);
    assert.equal(await driver.getContent(pathOf(a.layer)).then(String), 'flipped bits', 'a scan changes nothing');

    const repaired = await run({ repair: true });
    const outcome = Object.fromEntries(repaired.problems.map((p) => [`${p.kind} ${p.digest ?? p.path}`, p.fixed]));
    assert.deepEqual(outcome, {
      [`corrupt ${a.layer}`]: false,
      [`corrupt ${unneededCorrupt}`]: true,
      [`dangling ${ghost}`]: false,
      [`missing ${b.config}`]: false,
      [`missing ${unneeded}`]: true,
      [`orphan ${orphan}`]: false,
      'stray /blobs/sha256/zz/not-a-blob': false,
      [`torn-journal ${badCopyDigest}`]: true,
      [`torn-journal ${journaled}`]: true,
    });
    assert.equal(await driver.getContent(pathOf(journaled)).then(String), 'journaled, file lost', 'restored from the journal');
    assert.equal(await meta.getBlob(unneeded), undefined, 'the record of a lost blob nothing needs goes');
    assert.equal(await meta.getBlob(unneededCorrupt), undefined);
    assert.ok(await meta.getBlob(b.config), 'a lost blob a manifest needs stays recorded');
    assert.deepEqual(await meta.journaledBlobs(10).then((j) => j.map((e) => e.digest)), [journaled], 'the torn copy is dropped');
    const quarantined: string[] = [];
    await driver.walk('/_fsck/quarantine', (f) => void quarantined.push(f.path));
    assert.deepEqual(quarantined.map((p) => p.replace(/\.\d+$/, '')).sort(), [`/_fsck/quarantine/sha256/${a.layer.slice(7)}`, `/_fsck/quarantine/sha256/${unneededCorrupt.slice(7)}`].sort());
    assert.equal(await driver.getContent(pathOf(orphan)).then(String), 'nothing records me', 'orphans are left without --delete-orphans');

    const young = await run({ repair: true, deleteOrphans: true });
    assert.match(young.problems.find((p) => p.kind === 'orphan')?.repair ?? '', /younger than the grace period/);
    const later = Date.now() + 2 * 60 * 60 * 1000;
    const old = await run({ repair: true, deleteOrphans: true, now: () => later });
    assert.deepEqual(kinds(old), [`dangling ${ghost}`, `missing ${a.layer}`, `missing ${b.config}`, `orphan ${orphan}`, 'stray /blobs/sha256/zz/not-a-blob'].sort());
    assert.deepEqual(old.problems.filter((p) => p.fixed).map((p) => p.kind).sort(), ['orphan', 'stray']);
    const last = await run();
    assert.deepEqual(kinds(last), [`dangling ${ghost}`, `missing ${a.layer}`, `missing ${b.config}`].sort(), 'what is left is what a manifest needs');
    assert.equal(last.remaining, 3);
  });

  it('takes a file or record that appears during the scan for a push, not a problem', async () => {
    await image('r/app', 'v1');
    const late = Buffer.from('pushed while fsck walks');
    const lateDigest = digestOf(late);
    const walk = driver.walk.bind(driver);
    driver.walk = async (p, visit) => {
      await walk(p, visit);
      // the file lands after the walk passed its place, and its record right after
      await driver.putContent(pathOf(lateDigest), late);
      await meta.linkBlob('r/app', { digest: lateDigest, size: late.length });
    };
    assert.deepEqual(kinds(await run()), []);
  });

  it('takes a file whose blob garbage collection is deleting for no orphan', async () => {
    const digest = await blob('r/app', 'collected');
    meta.database.transaction(() => {
      meta.database.prepare('DELETE FROM repository_blobs WHERE digest = ?').run(digest);
      meta.database.prepare('DELETE FROM blobs WHERE digest = ?').run(digest);
    })();
    assert.deepEqual(kinds(await run()), [`orphan ${digest}`], 'unrecorded and unmarked: an orphan');
    meta.database.prepare('INSERT INTO gc_blob_deleting (digest, size, expires_at) VALUES (?, 9, 0)').run(digest);
    assert.deepEqual(kinds(await run()), [], 'marked: garbage collection deletes it');
  });

  it('hashes a blob as it streams: memory stays flat for 256 MiB', async () => {
    const chunk = Buffer.alloc(1 << 20, 7);
    const total = 256;
    const expected = createHash('sha256');
    for (let i = 0; i < total; i++) expected.update(chunk);
    const streaming = new MemoryDriver();
    streaming.reader = async () => Readable.from((function* () {
      for (let i = 0; i < total; i++) yield chunk;
    })());
    const before = process.memoryUsage();
    let peak = 0;
    const hashed = await hashStored(streaming, '/blobs/x', 'sha256', () => {
      const m = process.memoryUsage();
      peak = Math.max(peak, m.heapUsed + m.arrayBuffers - before.heapUsed - before.arrayBuffers);
    });
    assert.deepEqual(hashed, { digest: `sha256:${expected.digest('hex')}`, size: total << 20 });
    assert.ok(peak < 64 << 20, `memory grew by ${(peak / 2 ** 20).toFixed(1)} MiB`);
  });
});
