/**
 * `berth config check` and `berth config example`: run in this process with captured output, and
 * once through the real entry point (bin/berth.js) to check the command is wired in.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { configFiles } from '../config/test-support.ts';
import { loadConfig } from '../config/load.ts';
import { exampleConfigYaml } from '../config/example.ts';
import { EX_CONFIG } from './command.ts';
import { CONFIG_USAGE } from './config.ts';
import { runBerth } from './test-support.ts';

const configFile = configFiles('cli-config');
const REPO_ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => runBerth(['config', ...argv], env);

const VALID = `http:
  addr: :5001
  secret: top-secret-value
  tls: { certificate: /c.pem, key: /k.pem }
auth:
  silly: { realm: r }
profiles:
  dev:
    log: { level: debug }
    storage: inmemory
`;

const INVALID = `http:
  addr: :5001
  relativeurls: maybe
catalog:
  maxentries: 0
`;

describe('berth config check', () => {
  it('prints the effective config as YAML with secrets masked, then the warnings; exit 0', async () => {
    const { code, stdout, stderr } = await run(['check', '--config', configFile(VALID)]);
    assert.equal(code, 0);
    assert.equal(stderr, '');
    const tree = parse(stdout) as { http: { addr: string; secret: string; tls: { key: string } }; log: { level: string } };
    assert.equal(tree.http.addr, ':5001');
    assert.equal(tree.http.secret, '<masked>');
    assert.equal(tree.http.tls.key, '/k.pem');
    assert.equal(tree.log.level, 'info');
    assert.ok(!stdout.includes('top-secret-value'));
    assert.match(stdout, /^# berth config check: .*config-\d+\.yml; secrets masked\n/);
    assert.match(stdout, /\n# 1 warning:\n# warning: auth\.silly\.realm: distribution's test-only access controller, ignored\n$/);
  });

  it('applies --profile, or REGISTRY_PROFILE, without warning about the variable', async () => {
    const file = configFile(VALID);
    for (const [argv, env] of [[['--profile', 'dev'], {}], [[], { REGISTRY_PROFILE: 'dev' }]] as const) {
      const { code, stdout } = await run(['check', '-c', file, ...argv], env);
      assert.equal(code, 0);
      assert.match(stdout, /, profile dev; secrets masked\n/);
      const tree = parse(stdout) as { log: { level: string }; storage: Record<string, unknown>; meta: { sqlite: { path: string } } };
      assert.equal(tree.log.level, 'debug');
      assert.deepEqual(Object.keys(tree.storage).sort(), ['delete', 'gc', 'inmemory', 'maintenance', 'redirect']);
      assert.equal(tree.meta.sqlite.path, ':memory:');
      assert.doesNotMatch(stdout, /REGISTRY_PROFILE/);
    }
  });

  it('reads REGISTRY_CONFIGURATION_PATH when --config is not given, and says when there is no file', async () => {
    const viaEnv = await run(['check'], { REGISTRY_CONFIGURATION_PATH: configFile('http:\n  addr: :5077\n') });
    assert.equal(viaEnv.code, 0);
    assert.match(viaEnv.stdout, /addr: :5077\n/);
    const none = await run(['check']);
    assert.equal(none.code, 0);
    assert.match(none.stdout, /^# berth config check: no config file; secrets masked\n/);
    assert.match(none.stdout, /\n# no warnings\n$/);
  });

  it('reads DOCKER_REGISTRY_CONFIG and SETTINGS_FLAVOR as a docker-registry tutorial sets them, noting berth\'s own way', async () => {
    const file = configFile(VALID);
    const { code, stdout } = await run(['check'], { DOCKER_REGISTRY_CONFIG: file, SETTINGS_FLAVOR: 'dev' });
    assert.equal(code, 0);
    assert.ok(stdout.startsWith(`# berth config check: ${file}, profile dev; secrets masked\n`), stdout);
    assert.ok(stdout.includes(`\n# warning: DOCKER_REGISTRY_CONFIG=${file} selects the config file; berth's own way is --config FILE or REGISTRY_CONFIGURATION_PATH\n`), stdout);
    assert.match(stdout, /\n# warning: SETTINGS_FLAVOR=dev selects profile dev; berth's own variable is REGISTRY_PROFILE \(or --profile NAME\)\n/);
    const missing = await run(['check'], { DOCKER_REGISTRY_CONFIG: join(REPO_ROOT, 'no-such-config.yml') });
    assert.equal(missing.code, EX_CONFIG);
    assert.match(missing.stderr, /no-such-config\.yml: cannot read config file named by DOCKER_REGISTRY_CONFIG/);
  });

  it('exits 78 with every problem (key path, reason, line) on stderr, printing no config', async () => {
    const { code, stdout, stderr } = await run(['check', '--config', configFile(INVALID)]);
    assert.equal(code, EX_CONFIG);
    assert.equal(stdout, '');
    assert.match(stderr, /^berth: invalid configuration in .*config-\d+\.yml \(2 problems\):\n/);
    assert.match(stderr, /\n {2}http\.relativeurls: expected a boolean \(true or false\), got string "maybe" \(line 3\)\n/);
    assert.match(stderr, /\n {2}catalog\.maxentries: must be greater than 0; got number 0 \(line 5\)\n/);
  });

  it('exits 78 for an unknown profile, listing the defined ones', async () => {
    const { code, stderr } = await run(['check', '--config', configFile(VALID), '--profile', 'prod']);
    assert.equal(code, EX_CONFIG);
    assert.match(stderr, /profiles: no profile named "prod" \(defined: dev\) \(line 7\)/);
  });

  it('exits 78 for a config file that cannot be read', async () => {
    const { code, stderr } = await run(['check', '--config', join(REPO_ROOT, 'no-such-config.yml')]);
    assert.equal(code, EX_CONFIG);
    assert.match(stderr, /cannot read config file/);
  });

  it('exits 2 with the usage on a bad option or subcommand', async () => {
    for (const argv of [['check', '--bogus'], ['check', 'extra'], ['nope'], [], ['example', 'x']]) {
      const { code, stdout, stderr } = await run(argv);
      assert.equal(code, 2, argv.join(' '));
      assert.equal(stdout, '');
      assert.ok(stderr.endsWith(CONFIG_USAGE), argv.join(' '));
    }
  });
});

describe('berth config example', () => {
  it('prints the example config, which loads with no warnings', async () => {
    const { code, stdout, stderr } = await run(['example']);
    assert.equal(code, 0);
    assert.equal(stderr, '');
    assert.equal(stdout, exampleConfigYaml());
    assert.deepEqual(loadConfig({ env: {}, file: configFile(stdout) }).warnings, []);
  });
});

describe('berth config, through the entry point', () => {
  const cleanEnv = { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('REGISTRY_'))), BERTH_FROM_SOURCE: '1' };
  const berth = (...args: string[]) => spawnSync(process.execPath, ['bin/berth.js', 'config', ...args], { cwd: REPO_ROOT, env: cleanEnv, encoding: 'utf8' });

  it('checks a valid file: exit 0, the effective config on stdout', () => {
    const result = berth('check', '--config', configFile(VALID), '--profile', 'dev');
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /\n {2}secret: <masked>\n/);
    assert.match(result.stdout, /\n {2}level: debug\n/);
  });

  it('checks an invalid file: exit 78, the problems on stderr', () => {
    const result = berth('check', '--config', configFile(INVALID));
    assert.equal(result.status, 78);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /http\.relativeurls: .* \(line 3\)/);
  });
});
