/**
 * `berth import` on registry:2 trees written by hand: the three ways of placing blobs, a dry run,
 * an interrupted run continued, indexes after their children, what a push would refuse, tag
 * conflicts, the recorded fields, PostgreSQL as the meta store, and the command line's refusals.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runBerth } from '../../cli/test-support.ts';
import { createDriver } from '../../main.ts';
import { silentProgress } from '../../migrate/progress.ts';
import type { StorageDriver } from '../../storage/driver.ts';
import { PG_SKIP, pgDatabase } from '../../../test/helpers/pg-database.ts';
import { OCI_INDEX, OCI_MANIFEST, Tree } from './test-support.ts';

const trees: Tree[] = [];
function tree(): Tree {
  const t = new Tree();
  trees.push(t);
  return t;
}
after(() => trees.forEach((t) => t.remove()));

/** The storage driver of a config, whose writers' commits fail after `commits` succeeded (a crash mid-import). */
function failingAfter(commits: number): (config: Parameters<typeof createDriver>[0]) => Promise<StorageDriver> {
  let left = commits;
  return async (config) => {
    const driver = await createDriver(config);
    return {
      ...driver,
      getContent: (p) => driver.getContent(p),
      stat: (p) => driver.stat(p),
      writer: async (p, append, opts) => {
        const w = await driver.writer(p, append, opts);
        return {
          get size() {
            return w.size;
          },
          write: (chunk) => w.write(chunk),
          close: () => w.close(),
          cancel: () => w.cancel(),
          commit: async () => {
            if (left-- <= 0) throw new Error('killed');
            await w.commit();
          },
        };
      },
    };
  };
}

describe('berth import: placing blobs', () => {
  it('hard-links by default: the same inode, ROOT intact', async () => {
    const t = tree();
    const { layer } = t.image('alice/app', 'link', '1');
    const s = await t.run();
    assert.equal(s.ok, true);
    assert.equal(s.blobs.linked, 3);
    const hex = layer.digest.slice(7);
    assert.equal(fs.statSync(path.join(t.berth, 'blobs/sha256', hex.slice(0, 2), hex)).ino, fs.statSync(t.blobPath(layer.digest)).ino);
  });

  it('copies with --copy (stream through the driver): another inode, the same bytes', async () => {
    const t = tree();
    const { layer } = t.image('alice/app', 'copy', '1');
    const s = await t.run({ transfer: 'stream' });
    assert.equal(s.transfer, 'stream');
    assert.deepEqual([s.blobs.copied, s.blobs.linked], [3, 0]);
    const hex = layer.digest.slice(7);
    const copied = path.join(t.berth, 'blobs/sha256', hex.slice(0, 2), hex);
    assert.notEqual(fs.statSync(copied).ino, fs.statSync(t.blobPath(layer.digest)).ino);
    assert.equal(fs.readFileSync(copied, 'utf8'), 'layer of copy');
  });

  it('renames with --move, and a second run finds the moved blobs in berth', async () => {
    const t = tree();
    const { layer, manifest } = t.image('alice/app', 'move', '1');
    const s = await t.run({ transfer: 'move' });
    assert.equal(s.blobs.moved, 3);
    assert.equal(fs.existsSync(t.blobPath(layer.digest)), false);
    assert.equal(t.held(layer.digest), true);
    const again = await t.run({ transfer: 'move' });
    assert.equal(again.upToDate, true);
    assert.equal(again.ok, true, JSON.stringify(again.skipped));
    const backend = t.backend();
    try {
      assert.equal((await backend.meta.resolveTag('alice/app', '1'))?.digest, manifest.digest);
    } finally {
      await backend.close();
    }
  });

  const shm = fs.existsSync('/dev/shm') && fs.statSync('/dev/shm').dev !== fs.statSync(os.tmpdir()).dev;
  it('streams when berth\'s storage is on another filesystem, and says so', { skip: shm ? false : 'no /dev/shm on another filesystem than the temp dir' }, async () => {
    const t = tree();
    t.image('alice/app', 'elsewhere', '1');
    const berth = fs.mkdtempSync('/dev/shm/berth-import-');
    try {
      const notes: string[] = [];
      const progress = { ...silentProgress, note: (line: string) => void notes.push(line) };
      const config = t.config({ storage: { filesystem: { rootdirectory: berth } } });
      const s = await t.run({ config, progress });
      assert.equal(s.transfer, 'stream');
      assert.deepEqual([s.blobs.copied, s.blobs.linked], [3, 0]);
      assert.ok(notes.some((n) => /not on ROOT's filesystem: blobs are copied, not linked/.test(n)), notes.join('\n'));
    } finally {
      fs.rmSync(berth, { recursive: true, force: true });
    }
  });

  it('writes nothing in a dry run, yet verifies every blob', async () => {
    const t = tree();
    t.image('alice/app', 'dry', '1');
    const bad = t.image('alice/bad', 'bad', '1');
    fs.writeFileSync(t.blobPath(bad.config.digest), '{}');
    const s = await t.run({ dryRun: true });
    assert.equal(s.dryRun, true);
    assert.equal(s.manifests.imported, 1);
    assert.equal(s.tags.imported, 1);
    assert.match(s.skipped.find((k) => k.kind === 'blob')?.reason ?? '', /corrupt, would not be imported/);
    assert.deepEqual(fs.existsSync(t.berth) ? fs.readdirSync(t.berth) : [], []);
  });

  it('continues an interrupted run: what was committed is not copied again', async () => {
    const t = tree();
    t.image('alice/app', 'one', '1');
    t.image('alice/app', 'two', '2');
    await assert.rejects(t.run({ transfer: 'stream', concurrency: 1, driver: failingAfter(2) }), /killed/);
    const s = await t.run({ transfer: 'stream' });
    assert.equal(s.ok, true);
    assert.deepEqual([s.blobs.present, s.blobs.copied], [2, 4]);
    assert.deepEqual([s.tags.imported, s.manifests.imported], [2, 2]);
    assert.equal((await t.run({ transfer: 'stream' })).upToDate, true);
  });
});

describe('berth import: manifests and tags', () => {
  it('records indexes after their children, with the fields of a push and the source push time', async () => {
    const t = tree();
    const amd = t.image('lib/multi', 'amd64');
    const arm = t.image('lib/multi', 'arm64');
    const entry = (d: { digest: string; size: number }, architecture: string) => ({ mediaType: OCI_MANIFEST, digest: d.digest, size: d.size, platform: { os: 'linux', architecture } });
    const index = t.manifest('lib/multi', { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [entry(amd.manifest, 'amd64'), entry(arm.manifest, 'arm64')] }, 'latest');
    const outer = t.manifest('lib/multi', { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_INDEX, digest: index.digest, size: index.size }] }, 'outer');
    const sig = t.image('lib/multi', 'sig', 'sig', {
      artifactType: 'application/vnd.example.sig',
      subject: { mediaType: OCI_INDEX, digest: index.digest, size: index.size },
      annotations: { 'org.example': 'yes' },
    });
    const pushedAt = new Date('2024-05-06T07:08:09Z');
    fs.utimesSync(path.join(t.v2, 'repositories/lib/multi/_manifests/revisions/sha256', index.digest.slice(7), 'link'), pushedAt, pushedAt);
    const s = await t.run();
    assert.equal(s.ok, true, JSON.stringify(s.skipped));
    assert.equal(s.manifests.imported, 5);
    const backend = t.backend();
    try {
      const meta = backend.meta;
      assert.equal((await meta.resolveTag('lib/multi', 'outer'))?.digest, outer.digest);
      const recorded = await meta.getManifest('lib/multi', index.digest);
      assert.equal(recorded?.createdAt, pushedAt.getTime());
      assert.equal(await meta.totalSize('lib/multi', index.digest), index.size + amd.manifest.size + arm.manifest.size + amd.config.size + amd.layer.size + arm.config.size + arm.layer.size);
      const referrers = await meta.listReferrers('lib/multi', index.digest);
      assert.deepEqual(
        referrers.map((r) => [r.digest, r.artifactType, r.annotations]),
        [[sig.manifest.digest, 'application/vnd.example.sig', { 'org.example': 'yes' }]],
      );
    } finally {
      await backend.close();
    }
  });

  it('skips what a push would refuse: a missing child, a schema1 manifest, a wrong descriptor size, a tag at a deleted manifest', async () => {
    const t = tree();
    const child = t.image('alice/app', 'child');
    const orphan = t.manifest('alice/app', { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: `sha256:${'f'.repeat(64)}`, size: 9 }] }, 'orphan');
    const schema1 = t.manifest('alice/app', { schemaVersion: 1, name: 'alice/app', tag: 'old', fsLayers: [] }, 'old');
    const sized = t.manifest('alice/app', { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...child.config, size: child.config.size + 1 }, layers: [] }, 'sized');
    t.tag('alice/app', 'gone', `sha256:${'0'.repeat(64)}`);
    const s = await t.run();
    const why = (name: string): string => s.skipped.find((k) => k.name === name)?.reason ?? '';
    assert.match(why(`alice/app@${orphan.digest}`), /lists manifest sha256:f{64}, which is not in the repository/);
    assert.match(why(`alice/app@${schema1.digest}`), /schema1/);
    assert.match(why(`alice/app@${sized.digest}`), /descriptor gives blob .* \d+ bytes, the blob has \d+/);
    assert.match(why('alice/app:gone'), /not a manifest of the repository/);
    assert.deepEqual([s.manifests.imported, s.manifests.skipped], [1, 3]);
    assert.equal(s.ok, false);
  });

  it("keeps a tag berth points elsewhere, unless --overwrite-tags", async () => {
    const t = tree();
    const one = t.image('alice/app', 'one', 'latest');
    await t.run();
    const two = t.image('alice/app', 'two', 'latest');
    const kept = await t.run();
    assert.match(kept.skipped.find((k) => k.name === 'alice/app:latest')?.reason ?? '', new RegExp(`berth's points at ${one.manifest.digest}.*kept berth's`));
    const moved = await t.run({ overwriteTags: true });
    assert.equal(moved.ok, true);
    assert.equal(moved.tags.imported, 1);
    const backend = t.backend();
    try {
      assert.equal((await backend.meta.resolveTag('alice/app', 'latest'))?.digest, two.manifest.digest);
    } finally {
      await backend.close();
    }
  });

  it('records into PostgreSQL through the same MetaStore interface', { skip: PG_SKIP }, async () => {
    const pg = await pgDatabase();
    try {
      const t = tree();
      const { manifest } = t.image('alice/app', 'pg', '1');
      const config = t.config({ database: { enabled: true, url: pg.url } });
      const s = await t.run({ config });
      assert.equal(s.ok, true, JSON.stringify(s.skipped));
      const row = await pg.db.one<{ digest: string }>("SELECT t.manifest_digest AS digest FROM tags t JOIN repositories r ON r.id = t.repository_id WHERE r.name = 'alice/app' AND t.name = '1'");
      assert.equal(row?.digest, manifest.digest);
      assert.equal((await t.run({ config })).upToDate, true);
    } finally {
      await pg.cleanup();
    }
  });
});

describe('berth import: command line', () => {
  it('refuses a missing ROOT, --move with --copy, and a directory that is not a registry:2 root', async () => {
    assert.equal((await runBerth(['import'])).code, 2);
    const both = await runBerth(['import', '/x', '--move', '--copy']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--move and --copy exclude each other/);
    const t = tree();
    const env = { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: t.berth };
    const empty = await runBerth(['import', t.berth], env);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /no such directory|is not a registry:2 root/);
    const memory = await runBerth(['import', t.root], { REGISTRY_STORAGE: 'inmemory' });
    assert.equal(memory.code, 78, memory.stderr);
    assert.match(memory.stderr, /storage\.driver: berth keeps blobs in memory/);
  });

  it('prints the summary table and exits 1 when something was skipped', async () => {
    const t = tree();
    const { layer } = t.image('alice/app', 'cli', '1');
    t.upload('alice/app', 'u1');
    const env = { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: t.berth };
    const ok = await runBerth(['import', t.root], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^tags {10}1 {6}1 {9}0 {8}0$/m);
    assert.match(ok.stdout, /left behind: 1 upload leftover\(s\)/);
    fs.writeFileSync(t.blobPath(layer.digest), 'x');
    fs.rmSync(path.join(t.berth, 'blobs'), { recursive: true });
    const bad = await runBerth(['import', t.root, '--json'], env);
    assert.equal(bad.code, 1);
    assert.equal((JSON.parse(bad.stdout) as { ok: boolean }).ok, false);
  });
});
