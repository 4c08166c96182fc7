/**
 * `berth fsck` through the real command line (bin/berth.js) on the root of a berth that pushed
 * images: clean while it serves, and while a loop pushes more (exit 0); then, berth stopped, a corrupt layer, a deleted config,
 * an orphan file, a journal entry left torn by a crash (its file lost) and one whose copy is bad:
 * fsck finds each (exit 1) and changes nothing; --repair fixes what it can and names what it
 * cannot (exit 1); the registry then serves the blob the journal restored. Usage errors and a
 * failure to run are exit 2.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { after, before, describe, it } from 'node:test';
import type { FsckReport } from '../../src/lifecycle/fsck.ts';
import { Client, sha256 } from '../helpers/client.ts';
import { run, startBerth, tempDir, type BerthProcess, type RunResult } from '../helpers/process.ts';

describe('berth fsck', () => {
  let root: string;
  let server: BerthProcess | undefined;
  const berth = (args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult> =>
    run(process.execPath, ['bin/berth.js', ...args], {
      env: { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root, REGISTRY_CONFIGURATION_PATH: undefined, REGISTRY_LOG_LEVEL: 'warn', BERTH_FROM_SOURCE: '1', ...env },
    });
  const fsck = async (...args: string[]): Promise<{ code: number | null; report: FsckReport; stderr: string }> => {
    const res = await berth(['fsck', '--json', ...args]);
    return { code: res.code, report: JSON.parse(res.stdout) as FsckReport, stderr: res.stderr };
  };
  const fileOf = (digest: string): string => path.join(root, 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7));
  const kinds = (r: FsckReport): string[] => r.problems.map((p) => `${p.kind} ${p.digest ?? p.path}`).sort();

  before(async () => {
    root = await tempDir('fsck');
  });
  after(async () => {
    await server?.stop();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('finds nothing wrong beside a serving berth that pushed images (exit 0)', async () => {
    server = await startBerth({ root });
    const client = new Client(server.url);
    for (const tag of ['v1', 'v2', 'v3']) await client.pushImage('team/app', tag, { layer: `layer ${tag} ${'x'.repeat(300_000)}` });
    const res = await berth(['fsck']);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /^9 blobs \(\d+ bytes\) recorded, 9 files in storage/m);
    assert.match(res.stdout, /clean: no problem found/);
    assert.match(res.stderr, /verify: .*\n(.*\n)*verify: done/, 'plain progress lines off a terminal');
  });

  it('takes no push in flight for a problem: clean while a loop pushes', async () => {
    const client = new Client(server?.url ?? '');
    let stop = false;
    let pushes = 0;
    const loop = (async () => {
      while (!stop) {
        pushes++;
        await client.pushImage('team/busy', `t${pushes}`, { layer: `busy ${pushes} ${pushes % 2 === 0 ? 'z'.repeat(300_000) : ''}` });
      }
    })();
    try {
      for (let i = 0; i < 3; i++) {
        const res = await berth(['fsck']);
        assert.equal(res.code, 0, res.stdout + res.stderr);
      }
    } finally {
      stop = true;
      await loop;
    }
    assert.ok(pushes > 3, `pushes during the checks: ${pushes}`);
  });

  it('finds a corrupt blob, a missing one, an orphan and torn journal entries, and repairs what it can', async () => {
    const client = new Client(server?.url ?? '');
    const v1 = await client.pushImage('team/app', 'v1', { layer: `layer v1 ${'x'.repeat(300_000)}` });
    const v2 = await client.pushImage('team/app', 'v2', { layer: `layer v2 ${'x'.repeat(300_000)}` });
    const lonely = await client.pushBlob('team/app', 'an upload no manifest references');
    await server?.stop();
    server = undefined;

    await fs.writeFile(fileOf(v1.layer.digest), 'flipped bits');
    await fs.rm(fileOf(v2.config.digest));
    const orphan = Buffer.from('a file nothing records');
    await fs.mkdir(path.dirname(fileOf(sha256(orphan))), { recursive: true });
    await fs.writeFile(fileOf(sha256(orphan)), orphan);
    // a crash before the checkpoint: the journal holds the bytes its file lost
    const db = new Database(path.join(root, 'berth.db'));
    db.prepare('INSERT INTO blob_journal (digest, data, created_at) VALUES (?, ?, 0)').run(lonely.digest, Buffer.from('an upload no manifest references'));
    db.prepare('INSERT INTO blob_journal (digest, data, created_at) VALUES (?, ?, 0)').run(v2.layer.digest, Buffer.from('torn'));
    db.close();
    await fs.rm(fileOf(lonely.digest));
    const v1Before = await fs.readFile(fileOf(v1.layer.digest));

    const found = await fsck();
    assert.equal(found.code, 1, found.stderr);
    assert.deepEqual(kinds(found.report), [
      `corrupt ${v1.layer.digest}`,
      `missing ${v2.config.digest}`,
      `orphan ${sha256(orphan)}`,
      `torn-journal ${lonely.digest}`,
      `torn-journal ${v2.layer.digest}`,
    ].sort());
    assert.deepEqual(found.report.problems.find((p) => p.kind === 'missing')?.neededBy, [`team/app@${v2.descriptor.digest}`]);
    assert.deepEqual(await fs.readFile(fileOf(v1.layer.digest)), v1Before, 'without --repair nothing changes');

    const repaired = await fsck('--repair');
    assert.equal(repaired.code, 1, 'a blob a manifest needs cannot be brought back');
    const fixed = Object.fromEntries(repaired.report.problems.map((p) => [p.kind + ' ' + (p.digest ?? ''), p.fixed]));
    assert.deepEqual(fixed, {
      [`corrupt ${v1.layer.digest}`]: false,
      [`missing ${v2.config.digest}`]: false,
      [`orphan ${sha256(orphan)}`]: false,
      [`torn-journal ${lonely.digest}`]: true,
      [`torn-journal ${v2.layer.digest}`]: true,
    });
    assert.match(repaired.report.problems.find((p) => p.kind === 'corrupt')?.repair ?? '', /^moved to \/_fsck\/quarantine\/sha256\/[0-9a-f]{64}\.\d+; left: needed by team\/app@sha256:/);
    const quarantined = await fs.readdir(path.join(root, '_fsck', 'quarantine', 'sha256'));
    assert.equal(quarantined.length, 1);
    assert.deepEqual(await fs.readFile(path.join(root, '_fsck', 'quarantine', 'sha256', quarantined[0] ?? '')), v1Before, 'moved aside, not deleted');

    const text = await berth(['fsck', '--repair']);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^MISSING +sha256:[0-9a-f]{64}: storage lacks its \d+ bytes -> left: needed by team\/app@sha256:/m);
    assert.match(text.stdout, /^ORPHAN +sha256:[0-9a-f]{64}: 22 bytes nothing records -> left: only --delete-orphans removes it$/m);
    assert.match(text.stdout, /3 problem\(s\): 0 fixed, 3 left/);

    server = await startBerth({ root });
    const pulled = await fetch(`${server.url}/v2/team/app/blobs/${lonely.digest}`);
    assert.equal(pulled.status, 200);
    assert.equal(sha256(Buffer.from(await pulled.arrayBuffer())), lonely.digest, 'restored from the journal');
  });

  it('exits 2 on a usage error or when it cannot run, 78 on a bad config', async () => {
    const usage = await berth(['fsck', '--delete-orphans']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^berth fsck: --delete-orphans needs --repair\nusage: berth fsck /);
    assert.equal((await berth(['fsck', '--nope'])).code, 2);
    assert.equal((await berth(['fsck', 'extra'])).code, 2);
    assert.equal((await berth(['fsck', '--concurrency', '0'])).code, 2);
    const elsewhere = await tempDir('fsck-none');
    const missing = await berth(['fsck'], { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: elsewhere });
    await fs.rm(elsewhere, { recursive: true, force: true });
    assert.equal(missing.code, 2, 'no database to check');
    assert.match(missing.stderr, /^berth fsck: /);
    assert.equal((await berth(['fsck'], { REGISTRY_LOG_LEVEL: 'loud' })).code, 78);
  });
});
