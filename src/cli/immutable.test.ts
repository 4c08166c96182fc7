/**
 * `berth immutable` on a registry's data directory (no server: test/e2e/cli-lifecycle-rules.test.ts
 * runs it beside one): the config's rules and those added here (recorded as berth-cli's), which
 * replace the config's of their pattern; remove lifts a rule as the API does (removed, or the
 * config's disabled); each refusal, with the API's validation.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runBerth } from './test-support.ts';

interface RuleJson {
  repository: string;
  tags: string[];
  source: string;
  disabled: boolean;
  configTags: string[] | null;
  updatedBy: string | null;
  updatedAt: string | null;
}

describe('berth immutable', () => {
  let dir = '';
  let immutable: (...argv: string[]) => ReturnType<typeof runBerth>;
  const rules = async () => (JSON.parse((await immutable('list', '--json')).stdout) as { rules: RuleJson[] }).rules;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-immutable-'));
    const file = path.join(dir, 'config.yml');
    await fs.writeFile(file, JSON.stringify({ storage: { filesystem: { rootdirectory: path.join(dir, 'data') } }, access: { immutable: [{ repository: 'acme/*', tags: ['v*'] }] } }));
    immutable = (...argv) => runBerth(['immutable', ...argv, '--config', file]);
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('adds rules (each tag once), lists them with where they come from, and removes them', async () => {
    const add = await immutable('add', 'alice/*', 'v*', 'stable', 'v*');
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stdout, 'tags v* stable of alice/* are immutable\n');
    assert.equal((await immutable('add', 'acme/*', 'release-?')).code, 0);

    const list = await immutable('list');
    assert.equal(list.code, 0, list.stderr);
    const rows = list.stdout.trimEnd().split('\n');
    assert.match(rows[0] ?? '', /^REPOSITORY +TAGS +SOURCE$/);
    assert.match(rows[1] ?? '', /^acme\/\* +release-\? +set by berth-cli \S+Z, replacing the config's v\*$/);
    assert.match(rows[2] ?? '', /^alice\/\* +v\* stable +set by berth-cli \S+Z$/);
    assert.equal(rows.length, 3);

    const [acme, alice] = await rules();
    assert.deepEqual({ ...alice, updatedAt: null }, { repository: 'alice/*', tags: ['v*', 'stable'], source: 'api', disabled: false, configTags: null, updatedBy: 'berth-cli', updatedAt: null });
    assert.deepEqual([acme?.tags, acme?.configTags, acme?.source], [['release-?'], ['v*'], 'api']);

    const removed = await immutable('remove', 'alice/*');
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.stdout, 'the rule of alice/* is removed\n');
    const lifted = await immutable('remove', 'acme/*');
    assert.equal(lifted.stdout, "the config's rule of acme/* is lifted (berth immutable add sets one again)\n");
    assert.deepEqual(
      (await rules()).map((r) => [r.repository, r.tags, r.disabled, r.source, r.updatedBy]),
      [['acme/*', [], true, 'api', 'berth-cli']],
      'the config rule is disabled, not forgotten',
    );
    assert.match((await immutable('list')).stdout, /\nacme\/\* +\(lifted\) +config, lifted by berth-cli \S+Z\n$/);

    const again = await immutable('remove', 'acme/*');
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'berth immutable: no immutable tag rule of "acme/*" is in force\n');
    assert.equal((await immutable('remove', 'nobody/*')).code, 1);
    assert.equal((await immutable('add', 'acme/*', 'v*')).code, 0, 'a lifted config rule is set again by add');
    assert.deepEqual((await rules()).map((r) => [r.repository, r.tags, r.disabled]), [['acme/*', ['v*'], false]]);
  });

  it('refuses bad globs and missing arguments as the API does (exit 2, with the usage), and records nothing', async () => {
    const before = await rules();
    const cases: [string[], string][] = [
      [['add', 'Acme/*', 'v*'], 'REPOSITORY-GLOB: "Acme/*" is not a repository name with * wildcards'],
      [['add', 'acme//x', 'v*'], 'REPOSITORY-GLOB: "acme//x" is not a repository name'],
      [['add', 'acme/*', 'v/1'], 'TAG-GLOB: "v/1" is not a tag pattern'],
      [['add', 'acme/*', ''], 'TAG-GLOB: "" is not a tag pattern'],
      [['add', 'acme/*', 'x'.repeat(129)], 'TAG-GLOB: '],
      [['add', 'acme/*', ...Array.from({ length: 21 }, (_, i) => `t${i}`)], 'TAG-GLOB: '],
      [['add', 'acme/*'], 'missing TAG-GLOB'],
      [['add'], 'missing REPOSITORY-GLOB TAG-GLOB'],
      [['remove'], 'missing REPOSITORY-GLOB'],
      [['remove', 'a b'], 'REPOSITORY-GLOB: "a b" is not a repository name'],
      [['remove', 'acme/*', 'v*'], 'unexpected argument "v*"'],
      [['add', 'acme/*', 'v*', '--force'], 'unknown option --force'],
      [['lift', 'acme/*'], 'unknown subcommand "lift" (list, add, remove)'],
    ];
    for (const [argv, message] of cases) {
      const run = await immutable(...argv);
      assert.equal(run.code, 2, `${argv.join(' ')}: ${run.stderr}`);
      assert.ok(run.stderr.startsWith(`berth immutable: ${message}`), `${argv.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /\nusage: berth immutable list \[--json\]\n/);
    }
    assert.deepEqual(await rules(), before);
  });

  it('says so when the meta store is in memory', async () => {
    const file = path.join(dir, 'inmemory.yml');
    await fs.writeFile(file, JSON.stringify({ storage: { inmemory: {} } }));
    const run = await runBerth(['immutable', 'add', 'acme/*', 'v*', '--config', file]);
    assert.equal(run.code, 1);
    assert.equal(run.stderr, 'berth immutable: the meta store is in memory (storage.inmemory): only the running process holds its rules; use /api/v1/admin/immutable\n');
  });
});
