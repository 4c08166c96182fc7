/** `berth migrate`'s command line and refusals (no database needed), and its plain progress lines. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../cli/index.ts';
import type { CliIO } from '../cli/command.ts';
import { lineProgress } from './progress.ts';

async function berth(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, stdin: process.stdin, env: {} };
  return { status: await runCli(args, io), stdout, stderr };
}

describe('berth migrate: command line', () => {
  let dir: string;
  const file = (name: string, text: string): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-migrate-cli-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints its usage for --help and is listed by berth --help', async () => {
    const help = await berth(['migrate', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: berth migrate --to TARGET\.yml/);
    assert.match(help.stdout, /storage\.maintenance\.readonly\.enabled/);
    assert.match((await berth(['--help'])).stdout, /migrate --to FILE/);
  });

  it('exits 2 without --to or with an unknown option', async () => {
    const missing = await berth(['migrate']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^berth migrate: missing --to TARGET\.yml\nusage:/);
    assert.equal((await berth(['migrate', '--to', 'x.yml', '--fast'])).status, 2);
  });

  it('exits 78 when the target keeps no database, naming the key', async () => {
    const source = file('source.yml', `storage:\n  filesystem:\n    rootdirectory: ${dir}/data\n`);
    const r = await berth(['migrate', '--config', source, '--to', source]);
    assert.equal(r.status, 78);
    assert.match(r.stderr, /database\.enabled: the target must keep its metadata in PostgreSQL/);
  });

  it('exits 78 when source and target are the same database, without printing its password', async () => {
    const db = 'database:\n  enabled: true\n  host: db.example\n  user: berth\n  password: s3cret-pw\n  dbname: registry\n';
    const source = file('pg-source.yml', `${db}storage:\n  filesystem:\n    rootdirectory: ${dir}/data\n`);
    const target = file('pg-target.yml', db.replace('s3cret-pw', 'other-pw'));
    const r = await berth(['migrate', '--config', source, '--to', target]);
    assert.equal(r.status, 78);
    assert.match(r.stderr, /source and target are the same database/);
    assert.ok(!r.stderr.includes('s3cret-pw') && !r.stderr.includes('other-pw'));
    const elsewhere = file('pg-elsewhere.yml', db.replace('db.example', 'db2.example'));
    const other = await berth(['migrate', '--config', source, '--to', elsewhere]);
    assert.equal(other.status, 78);
    assert.match(other.stderr, /the source already keeps its metadata in PostgreSQL/);
  });

  it('exits 78 when the source has no database file', async () => {
    const source = file('empty.yml', `storage:\n  filesystem:\n    rootdirectory: ${dir}/nothing-here\n`);
    const target = file('t.yml', 'database:\n  enabled: true\n  host: 127.0.0.1\n');
    const r = await berth(['migrate', '--config', source, '--to', target]);
    assert.equal(r.status, 78);
    assert.match(r.stderr, /meta\.sqlite\.path: no database at /);
    assert.ok(!fs.existsSync(path.join(dir, 'nothing-here')), 'the source is only read');
  });
});

describe('lineProgress', () => {
  it('prints the start, each tenth and the end of a phase', () => {
    let text = '';
    const phase = lineProgress({ write: (t: string) => (text += t) }).phase('blobs', 2048, 'bytes');
    for (let i = 0; i < 8; i++) phase.tick(256);
    phase.done();
    assert.equal(text.split('\n')[0], 'blobs: 2.0 KiB');
    assert.match(text, /blobs: 50% \(1\.0 KiB of 2\.0 KiB\)/);
    assert.ok(text.endsWith('blobs: done\n'));
    // eighths of the way: 10% 20% 30% 50% 60% 70% 80% (100% is the end's line)
    assert.deepEqual(
      text.trim().split('\n').map((l) => l.match(/(\d+)%/)?.[1]).filter((p) => p !== undefined),
      ['10', '20', '30', '50', '60', '70', '80'],
    );
  });
});
