/**
 * Issue 13: the usage of every `berth` command and subcommand, through the real entry point
 * (bin/berth.js) as child processes. --help (-h) prints the command's usage on stdout, exit 0; an
 * unknown option, a missing or an extra argument is one line on stderr followed by that usage,
 * exit 2, never a stack trace; --version prints package.json's version; a bad config prints its
 * problems once, exit 78. None of it touches the data directory.
 */
import assert from 'node:assert/strict';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, run, tempDir, type RunResult } from '../helpers/process.ts';

/** A leaf (sub)command, with arguments that make its positionals complete. */
interface Leaf {
  words: string[];
  positionals?: string[];
  /** An option the command requires, given with the positionals. */
  required?: string[];
}

const LEAVES: Leaf[] = [
  { words: ['serve'] },
  { words: ['events'] },
  { words: ['config', 'check'] },
  { words: ['config', 'example'] },
  { words: ['mirror', 'status'] },
  { words: ['user', 'add'], positionals: ['alice'] },
  { words: ['user', 'list'] },
  { words: ['user', 'passwd'], positionals: ['alice'] },
  { words: ['user', 'del'], positionals: ['alice'] },
  { words: ['user', 'admin'], positionals: ['alice', 'true'] },
  { words: ['org', 'add'], positionals: ['acme'], required: ['--owner', 'alice'] },
  { words: ['org', 'list'] },
  { words: ['org', 'show'], positionals: ['acme'] },
  { words: ['org', 'del'], positionals: ['acme'] },
  { words: ['org', 'member', 'add'], positionals: ['acme', 'alice'] },
  { words: ['org', 'member', 'del'], positionals: ['acme', 'alice'] },
  { words: ['team', 'add'], positionals: ['acme', 'devs'] },
  { words: ['team', 'del'], positionals: ['acme', 'devs'] },
  { words: ['team', 'member', 'add'], positionals: ['acme', 'devs', 'alice'] },
  { words: ['team', 'member', 'del'], positionals: ['acme', 'devs', 'alice'] },
  { words: ['team', 'grant'], positionals: ['acme', 'devs', 'app', 'read'] },
  { words: ['repo', 'show'], positionals: ['alice/app'] },
  { words: ['repo', 'visibility'], positionals: ['alice/app', 'public'] },
  { words: ['token', 'create'], required: ['--user', 'alice'] },
  { words: ['token', 'list'], required: ['--user', 'alice'] },
  { words: ['token', 'revoke'], positionals: ['0123abcd'], required: ['--user', 'alice'] },
  { words: ['auth', 'rotate-key'] },
  { words: ['auth', 'keys'] },
  // issue 15: storage lifecycle
  { words: ['repo', 'delete'], positionals: ['alice/app'] },
  { words: ['gc'] },
  { words: ['retention', 'preview'] },
  { words: ['quota', 'list'] },
  { words: ['quota', 'show'], positionals: ['acme'] },
  { words: ['quota', 'set'], positionals: ['acme', '10GiB'] },
  { words: ['quota', 'unset'], positionals: ['acme'] },
  { words: ['immutable', 'list'] },
  { words: ['immutable', 'add'], positionals: ['acme/*', 'v*'] },
  { words: ['immutable', 'remove'], positionals: ['acme/*'] },
  { words: ['fsck'] },
  { words: ['backup'], positionals: ['/nonexistent/backup'] },
  { words: ['restore'], positionals: ['/nonexistent/backup'] },
  { words: ['import'], positionals: ['/nonexistent/root'] },
];

const COMMANDS = [...new Set(LEAVES.map((leaf) => leaf.words[0] ?? ''))];
const GROUPS = [...new Set(LEAVES.filter((leaf) => leaf.words.length > 1).map((leaf) => leaf.words.slice(0, -1).join(' ')))];

/** Run at most `n` at once. */
function pool(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    while (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

function assertNoStackTrace(res: RunResult, what: string): void {
  assert.ok(!/^\s+at /m.test(res.stderr), `no stack trace: ${what}\n${res.stderr}`);
}

describe('berth --help, usage errors and exit statuses, for every command', () => {
  let root: string;
  let badConfig: string;
  const runs = new Map<string, Promise<RunResult>>();
  const limit = pool(2 * availableParallelism());

  /** `berth ARGS`, started once however often asked for; each runs in its own process, several at once. */
  const berth = (...args: string[]): Promise<RunResult> => {
    const key = JSON.stringify(args);
    let started = runs.get(key);
    if (started === undefined) {
      const env: Record<string, string | undefined> = Object.fromEntries(Object.keys(process.env).filter((name) => name.startsWith('REGISTRY_')).map((name) => [name, undefined]));
      Object.assign(env, { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root, BERTH_FROM_SOURCE: '1', DOCKER_REGISTRY_CONFIG: undefined, SETTINGS_FLAVOR: undefined });
      started = limit(() => run(process.execPath, [join(REPO_ROOT, 'bin', 'berth.js'), ...args], { env, timeout: 60_000 }));
      runs.set(key, started);
    }
    return started;
  };
  const usageOf = async (command: string): Promise<string> => (await berth(command, '--help')).stdout;

  /** Exit 2, nothing on stdout, `berth COMMAND: PROBLEM` (a pattern) then the command's usage on stderr. */
  const assertUsageError = async (args: string[], problem: string): Promise<void> => {
    const [command = ''] = args;
    const [res, usage] = await Promise.all([berth(...args), usageOf(command)]);
    const what = `berth ${args.join(' ')}`;
    assert.equal(res.code, 2, `${what}\n${res.stderr}`);
    assert.equal(res.stdout, '', what);
    assertNoStackTrace(res, what);
    const newline = res.stderr.indexOf('\n');
    assert.match(res.stderr.slice(0, newline), new RegExp(`^berth ${command}: ${problem}$`), what);
    assert.equal(res.stderr.slice(newline + 1), usage, `${what}: one line, then the usage`);
  };

  const withArguments = (leaf: Leaf, ...more: string[]) => [...leaf.words, ...(leaf.positionals ?? []), ...(leaf.required ?? []), ...more];

  before(async () => {
    root = await tempDir('cli-usage');
    badConfig = join(root, '..', `${root.split('/').pop() ?? ''}.yml`);
    await writeFile(badConfig, 'http:\n  addr: :5001\n  relativeurls: maybe\n');
    // Start every process now; each test awaits its own.
    for (const command of COMMANDS) void berth(command, '--help');
  });
  after(async () => {
    await Promise.allSettled(runs.values());
    await rm(root, { recursive: true, force: true });
    await rm(badConfig, { force: true });
  });

  it('prints the usage of every command and subcommand on --help (-h), exit 0, nothing on stderr', async () => {
    const cases = [
      ...COMMANDS.map((command) => [command, '--help']),
      ...GROUPS.map((group) => [...group.split(' '), '--help']),
      ...LEAVES.map((leaf) => [...leaf.words, '--help']),
      ['serve', '-h'],
      ['user', '-h'],
      ['team', 'grant', 'acme', 'devs', 'app', 'read', '-h'],
    ];
    await Promise.all(
      cases.map(async (args) => {
        const [command = ''] = args;
        const [res, usage] = await Promise.all([berth(...args), usageOf(command)]);
        const what = `berth ${args.join(' ')}`;
        assert.equal(res.code, 0, `${what}\n${res.stderr}`);
        assert.equal(res.stderr, '', what);
        assert.match(res.stdout, new RegExp(`^usage: berth ${command} `), what);
        assert.equal(res.stdout, usage, `${what}: the command's usage`);
      }),
    );
    for (const leaf of LEAVES) assert.ok((await usageOf(leaf.words[0] ?? '')).includes(`berth ${leaf.words.join(' ')}`), `the usage shows berth ${leaf.words.join(' ')}`);
  });

  it('names the config options in the usage of every command that reads the config', async () => {
    await Promise.all(
      COMMANDS.map(async (command) => {
        assert.match(await usageOf(command), /-c, --config FILE .*\n.*--profile NAME/, command);
      }),
    );
  });

  it('rejects an unknown option in one line, then the usage, exit 2', async () => {
    await Promise.all(LEAVES.map((leaf) => assertUsageError(withArguments(leaf, '--no-such-option'), 'unknown option --no-such-option')));
    await assertUsageError(['serve', '--prot', '6000'], 'unknown option --prot');
  });

  it('rejects a missing argument, a missing subcommand, a missing required option, an extra argument, exit 2', async () => {
    const missing = LEAVES.filter((leaf) => (leaf.positionals ?? []).length > 0).map((leaf) =>
      assertUsageError([...leaf.words, ...(leaf.positionals ?? []).slice(0, -1), ...(leaf.required ?? [])], 'missing \\S+'),
    );
    const subcommands = GROUPS.map((group) => assertUsageError(group.split(' '), 'missing subcommand( of \\w+)? \\([\\w, -]+\\)'));
    await Promise.all([
      ...missing,
      ...subcommands,
      assertUsageError(['org', 'add', 'acme'], 'an organisation needs an owner: --owner USER'),
      assertUsageError(['token', 'list'], '--user USER is required'),
      assertUsageError(['serve', 'extra'], 'unexpected argument "extra"'),
    ]);
  });

  it('prints the version from package.json on --version and -V', async () => {
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const res of await Promise.all([berth('--version'), berth('-V')])) {
      assert.deepEqual(res, { code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it('prints its own help on --help, -h and help; help COMMAND is COMMAND --help', async () => {
    const [long, short, word, topic, user] = await Promise.all([berth('--help'), berth('-h'), berth('help'), berth('help', 'user'), berth('user', '--help')]);
    assert.equal(long.code, 0);
    assert.match(long.stdout, /^usage: berth <command> /);
    for (const command of COMMANDS) assert.match(long.stdout, new RegExp(`\\n {2}${command} `), `berth --help lists ${command}`);
    assert.deepEqual(short, long);
    assert.deepEqual(word, long);
    assert.deepEqual(topic, user);
  });

  it('rejects no command, an unknown command or option, exit 2 with the usage', async () => {
    const [usage, none, unknown, option, help] = await Promise.all([berth('--help'), berth(), berth('frobnicate'), berth('--frobnicate'), berth('help', 'frobnicate')]);
    for (const [res, line] of [
      [none, 'berth: missing command'],
      [unknown, 'berth: unknown command "frobnicate"'],
      [option, 'berth: unknown option --frobnicate'],
      [help, 'berth: unknown command "frobnicate"'],
    ] as const) {
      assert.deepEqual(res, { code: 2, stdout: '', stderr: `${line}\n${usage.stdout}` });
    }
  });

  it('prints a bad config once, the same for serve as for config check, exit 78', async () => {
    const results = await Promise.all([berth('serve', '--config', badConfig), berth('config', 'check', '--config', badConfig), berth('user', 'list', '--config', badConfig)]);
    for (const res of results) {
      assert.equal(res.code, 78, res.stderr);
      assert.equal(res.stdout, '');
      assert.equal(res.stderr.match(/invalid configuration/g)?.length, 1, res.stderr);
      assert.equal(res.stderr, `berth: invalid configuration in ${badConfig} (1 problem):\n  http.relativeurls: expected a boolean (true or false), got string "maybe" (line 3)\n`);
      assertNoStackTrace(res, 'bad config');
    }
  });

  it('touches nothing in the data directory', async () => {
    await Promise.allSettled(runs.values());
    assert.deepEqual(await readdir(root), []);
  });
});
