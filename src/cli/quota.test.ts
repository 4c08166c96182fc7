/**
 * `berth quota` on a registry's data directory (no server: test/e2e/cli-lifecycle-rules.test.ts runs
 * it beside one): limits from the config, set and removed as administrators' overrides recorded
 * as berth-cli's, 0 for none, as a table and as the API's JSON; each refusal.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runBerth } from './test-support.ts';

interface QuotaJson {
  namespace: string;
  used: number;
  limit: number;
  source: string;
  configLimit: number;
  updatedBy: string | null;
  updatedAt: string | null;
}

describe('berth quota', () => {
  let dir = '';
  let quota: (...argv: string[]) => ReturnType<typeof runBerth>;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-quota-'));
    const file = path.join(dir, 'config.yml');
    await fs.writeFile(file, JSON.stringify({ storage: { filesystem: { rootdirectory: path.join(dir, 'data') } }, access: { quota: { default: '10GiB', namespaces: { acme: '100GiB', big: 0 } } } }));
    quota = (...argv) => runBerth(['quota', ...argv, '--config', file]);
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('sets a limit (recorded as berth-cli, replacing the config), shows it, lists it, and unsets it', async () => {
    const set = await quota('set', 'alice', '1.5GiB');
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, 'alice is limited to 1.5 GiB (1610612736 bytes); it holds 0 B\n');

    const shown = await quota('show', 'alice', '--json');
    assert.equal(shown.code, 0, shown.stderr);
    const alice = JSON.parse(shown.stdout) as QuotaJson;
    assert.deepEqual({ ...alice, updatedAt: null }, { namespace: 'alice', used: 0, limit: 1610612736, source: 'api', configLimit: 10737418240, updatedBy: 'berth-cli', updatedAt: null });
    assert.match(alice.updatedAt ?? '', /^\d{4}-\d\d-\d\dT/);
    const text = await quota('show', 'alice');
    assert.match(text.stdout, /^alice\n {2}used +0 B \(0 bytes\)\n {2}limit +1\.5 GiB \(1610612736 bytes\)\n {2}source +set by berth-cli \S+Z\n {2}config +10\.0 GiB\n$/);

    const list = await quota('list');
    assert.equal(list.code, 0, list.stderr);
    const rows = list.stdout.trimEnd().split('\n');
    assert.match(rows[0] ?? '', /^NAMESPACE +USED +LIMIT +SOURCE$/);
    assert.deepEqual(
      rows.slice(1).map((r) => r.split(/ {2,}/)),
      [
        ['acme', '0 B', '100.0 GiB', 'config'],
        ['alice', '0 B', '1.5 GiB', rows[2]?.split(/ {2,}/)[3] ?? ''],
        ['big', '0 B', 'none', 'config'],
      ],
    );
    assert.match(rows[2] ?? '', /set by berth-cli \S+Z$/);

    const unset = await quota('unset', 'alice');
    assert.equal(unset.code, 0, unset.stderr);
    assert.equal(unset.stdout, "alice: the limit set is removed; the config's applies: 10.0 GiB (default)\n");
    const back = JSON.parse((await quota('show', 'alice', '--json')).stdout) as QuotaJson;
    assert.deepEqual([back.limit, back.source, back.updatedBy], [10737418240, 'default', null]);
    const again = await quota('unset', 'alice');
    assert.equal(again.code, 1);
    assert.equal(again.stderr, "berth quota: no limit was set for alice (by berth quota set or through /api/v1): its limit is the config's\n");
  });

  it('0 is no limit, as in the API; a number alone is bytes', async () => {
    assert.equal((await quota('set', 'acme', '0')).stdout, 'acme has no limit now (it holds 0 B)\n');
    assert.equal((await quota('set', 'bob', '2048')).stdout, 'bob is limited to 2.0 KiB (2048 bytes); it holds 0 B\n');
    const list = JSON.parse((await quota('list', '--json')).stdout) as { namespaces: QuotaJson[] };
    assert.deepEqual(
      list.namespaces.map((q) => [q.namespace, q.limit, q.source, q.configLimit]),
      [
        ['acme', 0, 'api', 107374182400],
        ['big', 0, 'config', 0],
        ['bob', 2048, 'api', 10737418240],
      ],
    );
  });

  it('refuses a bad size, a name that is not a namespace and missing arguments (exit 2, with the usage)', async () => {
    const cases: [string[], string][] = [
      [['set', 'alice', 'lots'], 'SIZE: "lots" is not a size'],
      [['set', 'alice', '1.5'], 'SIZE: "1.5" is not a size'],
      [['set', 'alice', '1e30'], 'SIZE: "1e30" is not a size'],
      [['set', 'alice', '99999999999PiB'], 'SIZE: "99999999999PiB" is too large'],
      [['set', 'Not_A_Namespace', '1GiB'], '"Not_A_Namespace" is not a namespace'],
      [['set', 'acme/app', '1GiB'], '"acme/app" is not a namespace'],
      [['show', 'a'.repeat(151)], `"${'a'.repeat(100)}" is not a namespace`],
      [['unset', '..'], '".." is not a namespace'],
      [['set', 'alice'], 'missing SIZE'],
      [['show'], 'missing NAMESPACE'],
      [['unset', 'alice', 'bob'], 'unexpected argument "bob"'],
      [['list', 'alice'], 'unexpected argument "alice"'],
      [['raise', 'alice'], 'unknown subcommand "raise" (list, show, set, unset)'],
    ];
    for (const [argv, message] of cases) {
      const run = await quota(...argv);
      assert.equal(run.code, 2, `${argv.join(' ')}: ${run.stderr}`);
      assert.ok(run.stderr.startsWith(`berth quota: ${message}`), `${argv.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /\nusage: berth quota list \[--json\]\n/);
    }
    assert.equal((await quota('show', 'a'.repeat(150))).code, 0, '150 characters are a namespace');
    const after = JSON.parse((await quota('list', '--json')).stdout) as { namespaces: QuotaJson[] };
    assert.deepEqual(after.namespaces.map((q) => q.namespace), ['acme', 'big', 'bob'], 'nothing refused was recorded');
  });

  it('says so when the meta store is in memory, or not there yet', async () => {
    const file = path.join(dir, 'inmemory.yml');
    await fs.writeFile(file, JSON.stringify({ storage: { inmemory: {} } }));
    const run = await runBerth(['quota', 'set', 'alice', '1GiB', '--config', file]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^berth quota: the meta store is in memory \(storage\.inmemory\): only the running process holds its quotas; use \/api\/v1\/namespaces\/\{namespace\}\/quota\n$/);
    const none = await runBerth(['quota', 'list'], { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: path.join(dir, 'nothing-here') });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^berth quota: cannot open the meta store: /);
  });
});
