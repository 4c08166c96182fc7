/**
 * docs/backup.md's recovery procedure, its commands run as the document writes them (the berth
 * lines of its "Recovery procedure", with this test's config and backup directory): a backup
 * taken through bin/berth.js while a loop pushes images, the root wiped, the restore, and every
 * image acknowledged before the backup pulled back with its digests; those acknowledged after it
 * are absent (the snapshot is of one moment), those during it whole or absent. Then fsck is clean.
 * And the refusals: a restore onto the database a berth is serving, DEST not empty, a file, under
 * a missing directory, inside the storage; a SRC that is no backup; PostgreSQL (pg_dump, no secret).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, OCI_MANIFEST, sha256 } from '../helpers/client.ts';
import { REPO_ROOT, run, startBerth, tempDir, type BerthProcess, type RunResult } from '../helpers/process.ts';

const DOC_CONFIG = '/etc/berth/config.yml';
const DOC_BACKUP = '/var/backups/berth/2026-12-02';

/** The berth command lines of the document's recovery procedure, in order, as words. */
async function procedure(): Promise<string[][]> {
  const doc = await fs.readFile(path.join(REPO_ROOT, 'docs', 'backup.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Recovery procedure'), doc.indexOf('\n## ', doc.indexOf('## Recovery procedure') + 1));
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  return blocks.flatMap((b) => b.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('berth '))).map((l) => l.split(/\s+/).slice(1));
}

interface Pushed {
  tag: string;
  manifest: string;
  blobs: string[];
  ackedAt: number;
}

describe('backup and recovery as docs/backup.md says', () => {
  let dir: string;
  let root: string;
  let dest: string;
  let configFile: string;
  let server: BerthProcess | undefined;
  const berth = (args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult> =>
    run(process.execPath, ['bin/berth.js', ...args], { env: { REGISTRY_CONFIGURATION_PATH: undefined, REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: undefined, BERTH_FROM_SOURCE: '1', ...env } });
  /** A command of the document, with this test's paths. */
  const docCommand = (words: string[]): string[] => words.map((w) => w.replace(DOC_CONFIG, configFile).replace(DOC_BACKUP, dest));

  before(async () => {
    dir = await tempDir('backup');
    root = path.join(dir, 'root');
    dest = path.join(dir, 'backups', 'one');
    await fs.mkdir(path.dirname(dest));
    configFile = path.join(dir, 'config.yml');
    await fs.writeFile(configFile, `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${root}\n`);
  });
  after(async () => {
    await server?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('backs up during a push loop, restores onto a wiped root, and serves every image acknowledged before the backup', async () => {
    const steps = await procedure();
    assert.deepEqual(steps.map((s) => s[0]), ['backup', 'restore', 'fsck'], 'the procedure: backup, restore, fsck');
    const [backupStep = [], restoreStep = [], fsckStep = []] = steps.map(docCommand);
    assert.ok(backupStep.includes('--with-blobs') && backupStep.includes(dest) && backupStep.includes(configFile));

    server = await startBerth({ root, configFile });
    const client = new Client(server.url);
    const pushed: Pushed[] = [];
    let stop = false;
    let n = 0;
    const loop = (async () => {
      while (!stop) {
        const tag = `t${++n}`;
        // every third image has a layer past the blob journal's limit: an upload file, not the journal
        const big = n % 3 === 0 ? 'y'.repeat(300_000) : '';
        const image = await client.pushImage('loop/app', tag, { layer: `layer ${tag} ${big}` });
        pushed.push({ tag, manifest: image.descriptor.digest, blobs: [image.config.digest, image.layer.digest], ackedAt: Date.now() });
      }
    })();
    while (pushed.length < 15) await new Promise((r) => setTimeout(r, 20));
    const backupStarted = Date.now();
    const taken = await berth(backupStep);
    const backupDone = Date.now();
    assert.equal(taken.code, 0, taken.stdout + taken.stderr);
    assert.match(taken.stdout, /^snapshot of .*berth\.db in .*: \d+ blobs \(\d+ bytes\) listed in blobs\.tsv/);
    const countAfter = pushed.length;
    while (pushed.length < countAfter + 5) await new Promise((r) => setTimeout(r, 20));
    stop = true;
    await loop;

    const live = await berth(restoreStep);
    assert.equal(live.code, 1, 'refused while berth serves the database');
    assert.match(live.stderr, /^berth restore: .*berth\.db is in use \(a berth is serving it, or another process holds it open\): stop berth, then run berth restore again\n$/);

    await server.stop();
    server = undefined;
    await fs.rm(root, { recursive: true });

    const restored = await berth(restoreStep);
    assert.equal(restored.code, 0, restored.stdout + restored.stderr);
    assert.match(restored.stdout, / 0 missing\n/);
    assert.match(restored.stdout, /next: start berth, then run berth fsck/);

    server = await startBerth({ root, configFile });
    const before = pushed.filter((p) => p.ackedAt < backupStarted);
    const afterwards = pushed.filter((p) => p.ackedAt > backupDone);
    const during = pushed.filter((p) => p.ackedAt >= backupStarted && p.ackedAt <= backupDone);
    assert.ok(before.length >= 15 && afterwards.length >= 5);
    const pull = async (p: Pushed): Promise<boolean> => {
      const res = await fetch(`${server?.url}/v2/loop/app/manifests/${p.tag}`, { headers: { accept: OCI_MANIFEST } });
      const body = Buffer.from(await res.arrayBuffer());
      if (res.status === 404) return false;
      assert.equal(res.status, 200, p.tag);
      assert.equal(sha256(body), p.manifest, p.tag);
      for (const digest of p.blobs) {
        const blob = await fetch(`${server?.url}/v2/loop/app/blobs/${digest}`);
        assert.equal(blob.status, 200, `${p.tag} ${digest}`);
        assert.equal(sha256(Buffer.from(await blob.arrayBuffer())), digest, `${p.tag} ${digest}`);
      }
      return true;
    };
    for (const p of before) assert.equal(await pull(p), true, `${p.tag}, acknowledged before the backup, is back`);
    for (const p of during) await pull(p); // whole, or absent
    for (const p of afterwards) assert.equal(await pull(p), false, `${p.tag}, acknowledged after the backup, is not in it`);

    const checked = await berth(fsckStep);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, /clean: no problem found/);
  });

  it('refuses a DEST that is not empty, a file, under a missing directory or inside the storage, and a SRC that is no backup', async () => {
    const backupTo = (to: string) => berth(['backup', to, '--config', configFile]);
    const refused = async (res: Promise<RunResult>, why: RegExp): Promise<void> => {
      const r = await res;
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, why);
    };
    await fs.writeFile(path.join(dir, 'a-file'), 'x');
    const full = path.join(dir, 'full');
    await fs.mkdir(full, { recursive: true });
    await fs.writeFile(path.join(full, 'something'), 'x');
    await Promise.all([
      refused(backupTo(full), /^berth backup: .* is not empty: back up into a new or empty directory\n$/),
      refused(backupTo(path.join(dir, 'a-file')), /exists and is not a directory/),
      refused(backupTo(path.join(dir, 'no', 'such', 'dir')), /does not exist/),
      refused(backupTo(path.join(root, 'backups')), /is inside the storage it would back up/),
      refused(berth(['restore', full, '--config', configFile]), /has no backup\.json: not a berth backup, or one that did not finish/),
      refused(berth(['restore', path.join(dir, 'nothing-here'), '--config', configFile]), /does not exist/),
    ]);
    const usage = await berth(['restore']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^berth restore: missing SRC\nusage: berth restore SRC/);
    assert.equal((await berth(['backup', dest, 'extra'])).code, 2);
  });

  it('says pg_dump is the tool with PostgreSQL, with the command for the configured database and no password', async () => {
    const env = { REGISTRY_DATABASE_ENABLED: 'true', REGISTRY_DATABASE_URL: 'postgres://berth:s3cret@db.example:5432/registry' };
    const res = await berth(['backup', '/srv/backups/x'], env);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /pg_dump --format=custom --file='\/srv\/backups\/x\/berth\.pgdump' 'postgres:\/\/berth@db\.example:5432\/registry'\n/);
    assert.ok(!res.stderr.includes('s3cret'), 'the password is not printed');
    const back = await berth(['restore', '/srv/backups/x'], env);
    assert.equal(back.code, 1);
    assert.match(back.stderr, /pg_restore --clean --if-exists --single-transaction --dbname='postgres:\/\/berth@db\.example:5432\/registry' '\/srv\/backups\/x\/berth\.pgdump'\n/);
  });
});
