/**
 * Profiles: the selected entry of `profiles:` merged over the common settings, and the full
 * precedence defaults < file < profile < `_env:` (in place) < REGISTRY_* < overrides.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFiles, expectConfigError } from './test-support.ts';
import { loadConfig, type LoadOptions, type LoadedConfig } from './load.ts';

const configFile = configFiles('config-profiles');

function load(yaml: string, opts: LoadOptions = {}): LoadedConfig {
  return loadConfig({ env: {}, ...opts, file: configFile(yaml) });
}

const LAYERED = `http:
  addr: :5001
  relativeurls: true
catalog:
  maxentries: 10
log:
  level: warn
profiles:
  dev:
    http:
      addr: :5002
    catalog:
      maxentries: _env:DEV_MAXENTRIES:20
    log:
      fields:
        env: dev
  prod:
    http:
      addr: :443
`;

describe('profiles: merging', () => {
  it('uses only the common settings when no profile is selected, without warning about `profiles`', () => {
    const { config, warnings, profile } = load(LAYERED);
    assert.equal(config.http.addr, ':5001');
    assert.equal(config.catalog.maxentries, 10);
    assert.deepEqual(config.log.fields, {});
    assert.equal(profile, undefined);
    assert.deepEqual(warnings, []);
  });

  it('merges the selected profile over the common settings key by key', () => {
    const { config, profile, warnings } = load(LAYERED, { profile: 'dev' });
    assert.equal(profile, 'dev');
    assert.equal(config.http.addr, ':5002', 'profile beats file');
    assert.equal(config.http.relativeurls, true, 'common key the profile does not set');
    assert.equal(config.log.level, 'warn');
    assert.deepEqual(config.log.fields, { env: 'dev' });
    assert.equal(config.catalog.maxentries, 20, "the profile's _env: default");
    assert.deepEqual(warnings, []);
    assert.equal(load(LAYERED, { profile: 'prod' }).config.http.addr, ':443');
  });

  it('applies the precedence file < profile < _env: < REGISTRY_* < overrides', () => {
    const yaml = `http:
  addr: :5001
  prefix: /file
  host: https://file.example
  secret: file
profiles:
  p:
    http:
      addr: _env:ADDR
      prefix: /profile
      host: _env:HOST
      secret: _env:SECRET
`;
    const env = { ADDR: ':5003', HOST: 'https://env-ref.example', SECRET: 'from-env-ref', REGISTRY_HTTP_HOST: 'https://registry.example', REGISTRY_HTTP_SECRET: 'from-registry' };
    const { config } = load(yaml, { profile: 'p', env, overrides: { http: { secret: 'from-overrides' } } });
    assert.equal(config.http.prefix, '/profile', 'profile beats file');
    assert.equal(config.http.addr, ':5003', "_env: in the profile beats the file's value");
    assert.equal(config.http.host, 'https://registry.example', 'REGISTRY_* beats _env:');
    assert.equal(config.http.secret, 'from-overrides', 'overrides beat REGISTRY_*');
  });

  it("resolves _env: where it is written: a profile's plain value replaces a common _env: reference", () => {
    const yaml = 'http:\n  secret: _env:UNSET_SECRET\nprofiles:\n  dev:\n    http:\n      secret: dev-secret\n';
    assert.equal(load(yaml, { profile: 'dev' }).config.http.secret, 'dev-secret');
    const err = expectConfigError(() => load(yaml));
    assert.deepEqual(err.problems.map((p) => p.path), ['http.secret']);
  });

  it('lets a profile replace the storage driver', () => {
    const yaml = 'storage:\n  filesystem:\n    rootdirectory: /srv/berth\n  delete:\n    enabled: false\nprofiles:\n  dev:\n    storage: inmemory\n  test:\n    storage:\n      inmemory: {}\n';
    for (const name of ['dev', 'test']) {
      const { config } = load(yaml, { profile: name });
      assert.equal(config.storage.driver, 'inmemory', name);
      assert.equal(config.storage.delete.enabled, false, name);
      assert.equal(config.meta.sqlite.path, ':memory:', name);
    }
  });

  it('accepts an empty profile, and YAML anchors shared between profiles', () => {
    const yaml = 'profiles:\n  empty:\n  a: &a\n    log: { level: debug }\n  b:\n    <<: *a\n    catalog: { maxentries: 5 }\n';
    assert.equal(load(yaml, { profile: 'empty' }).config.log.level, 'info');
    const { config } = load(yaml, { profile: 'b' });
    assert.equal(config.log.level, 'debug');
    assert.equal(config.catalog.maxentries, 5);
  });
});

describe('profiles: selection', () => {
  it('selects the profile named by REGISTRY_PROFILE, without warning about the variable', () => {
    const { config, warnings, profile } = load(LAYERED, { env: { REGISTRY_PROFILE: 'dev' } });
    assert.equal(profile, 'dev');
    assert.equal(config.http.addr, ':5002');
    assert.deepEqual(warnings, []);
  });

  it('prefers the profile option over REGISTRY_PROFILE, and treats an empty variable as unset', () => {
    assert.equal(load(LAYERED, { profile: 'prod', env: { REGISTRY_PROFILE: 'dev' } }).config.http.addr, ':443');
    assert.equal(load(LAYERED, { env: { REGISTRY_PROFILE: '' } }).config.http.addr, ':5001');
  });

  it('fails on a profile that does not exist, listing the ones that do', () => {
    const err = expectConfigError(() => load(LAYERED, { profile: 'stage' }));
    assert.deepEqual(err.problems, [
      { path: 'profiles', reason: 'no profile named "stage" (defined: dev, prod)', line: 8, column: 1 },
    ]);
    assert.match(err.message, /profiles: no profile named "stage" \(defined: dev, prod\) \(line 8\)/);
  });

  it('names REGISTRY_PROFILE as the source of an unknown profile', () => {
    const err = expectConfigError(() => load(LAYERED, { env: { REGISTRY_PROFILE: 'stage' } }));
    assert.match(err.message, /no profile named "stage" \(defined: dev, prod\) \(line 8, from REGISTRY_PROFILE\)/);
  });

  it('fails on a profile when the file defines none, or there is no file', () => {
    const none = expectConfigError(() => load('http:\n  addr: :5001\n', { profile: 'dev' }));
    assert.match(none.message, /profiles: no profile named "dev" \(.*config-\d+\.yml defines no profiles\)/);
    const noFile = expectConfigError(() => loadConfig({ env: { REGISTRY_PROFILE: 'dev' } }));
    assert.match(noFile.message, /no profile named "dev" \(no config file was given\) \(from REGISTRY_PROFILE\)/);
  });
});

describe('profiles: SETTINGS_FLAVOR, the docker-registry image\'s name for REGISTRY_PROFILE', () => {
  it('selects the profile SETTINGS_FLAVOR names, with a one-line notice naming REGISTRY_PROFILE', () => {
    const { config, warnings, profile } = load(LAYERED, { env: { SETTINGS_FLAVOR: 'dev' } });
    assert.equal(profile, 'dev');
    assert.equal(config.http.addr, ':5002');
    assert.deepEqual(warnings, ["SETTINGS_FLAVOR=dev selects profile dev; berth's own variable is REGISTRY_PROFILE (or --profile NAME)"]);
  });

  it('lets the profile option and REGISTRY_PROFILE beat it, saying which one was used', () => {
    const byOption = load(LAYERED, { profile: 'prod', env: { SETTINGS_FLAVOR: 'dev', REGISTRY_PROFILE: 'dev' } });
    assert.equal(byOption.config.http.addr, ':443');
    assert.deepEqual(byOption.warnings, ['SETTINGS_FLAVOR=dev ignored: --profile selects profile prod']);
    const byVariable = load(LAYERED, { env: { SETTINGS_FLAVOR: 'dev', REGISTRY_PROFILE: 'prod' } });
    assert.equal(byVariable.profile, 'prod');
    assert.deepEqual(byVariable.warnings, ['SETTINGS_FLAVOR=dev ignored: REGISTRY_PROFILE selects profile prod']);
  });

  it('treats an empty SETTINGS_FLAVOR as unset, and an empty REGISTRY_PROFILE as not beating it', () => {
    const empty = load(LAYERED, { env: { SETTINGS_FLAVOR: '' } });
    assert.equal(empty.profile, undefined);
    assert.deepEqual(empty.warnings, []);
    assert.equal(load(LAYERED, { env: { SETTINGS_FLAVOR: 'prod', REGISTRY_PROFILE: '' } }).profile, 'prod');
  });

  it('fails on an unknown flavor as on an unknown profile, naming SETTINGS_FLAVOR as the source', () => {
    const err = expectConfigError(() => load(LAYERED, { env: { SETTINGS_FLAVOR: 'common' } }));
    assert.deepEqual(err.problems, [
      { path: 'profiles', reason: 'no profile named "common" (defined: dev, prod)', line: 8, column: 1, source: 'SETTINGS_FLAVOR' },
    ]);
    const noFile = expectConfigError(() => loadConfig({ env: { SETTINGS_FLAVOR: 'dev' } }));
    assert.match(noFile.message, /no profile named "dev" \(no config file was given\) \(from SETTINGS_FLAVOR\)/);
  });
});

describe('profiles: problems and warnings', () => {
  it("reports a bad value in the profile at the profile's line", () => {
    const err = expectConfigError(() => load(LAYERED.replace(':443', 'nope'), { profile: 'prod' }));
    assert.equal(err.problems.length, 1);
    assert.deepEqual(
      { ...err.problems[0], reason: undefined },
      { path: 'http.addr', reason: undefined, line: 19, column: 7, source: 'profile "prod"' },
    );
    assert.match(err.message, /http\.addr: .*"nope" \(line 19, from profile "prod"\)/);
  });

  it('does not validate profiles that are not selected', () => {
    assert.equal(load(LAYERED.replace(':443', 'nope')).config.http.addr, ':5001');
  });

  it('drops a common problem the profile replaces, and REGISTRY_* drops a profile problem', () => {
    const yaml = 'http:\n  addr: nope\nprofiles:\n  dev:\n    http:\n      addr: :5002\n      prefix: bad\n';
    const err = expectConfigError(() => load(yaml, { profile: 'dev' }));
    assert.deepEqual(err.problems.map((p) => [p.path, p.line]), [['http.prefix', 7]]);
    assert.equal(load(yaml, { profile: 'dev', env: { REGISTRY_HTTP_PREFIX: '/ok' } }).config.http.addr, ':5002');
  });

  it('reports an unset _env: reference in the profile with its line', () => {
    const err = expectConfigError(() => load('profiles:\n  dev:\n    http:\n      secret: _env:NOPE\n', { profile: 'dev' }));
    assert.deepEqual(err.problems.map((p) => [p.path, p.line, p.source]), [['http.secret', 4, 'profile "dev"']]);
  });

  it('warns about unknown and ignored keys in the selected profile, naming it', () => {
    const yaml = 'profiles:\n  dev:\n    http:\n      bogus: 1\n    auth:\n      silly: {}\n    profiles:\n      x: {}\n';
    assert.deepEqual(load(yaml, { profile: 'dev' }).warnings, [
      'profiles.dev.profiles: profiles cannot be nested, ignored',
      'http.bogus: unknown key, ignored (from profile "dev")',
      'auth.silly: distribution\'s test-only access controller, ignored (from profile "dev")',
    ]);
  });

  it('fails on a malformed profiles map', () => {
    const notMap = expectConfigError(() => load('profiles: [dev]\n'));
    assert.deepEqual(notMap.problems.map((p) => [p.path, p.line]), [['profiles', 1]]);
    const notProfile = expectConfigError(() => load('profiles:\n  dev: 3\n  ok: {}\n', { profile: 'ok' }));
    assert.deepEqual(notProfile.problems.map((p) => [p.path, p.reason, p.line]), [
      ['profiles.dev', 'expected a mapping of configuration keys (a partial configuration)', 2],
    ]);
  });
});
