/**
 * Environment: REGISTRY_* overrides (distribution's scheme), `_env:VAR[:DEFAULT]` references in
 * the file, and the precedence file < _env: < REGISTRY_* < overrides.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFiles, expectConfigError } from './test-support.ts';
import { loadConfig, type Config, type ConfigError } from './load.ts';

const configFile = configFiles('config-env');

function load(env: NodeJS.ProcessEnv, yaml?: string): { config: Config; warnings: string[] } {
  return loadConfig({ env, file: yaml === undefined ? undefined : configFile(yaml) });
}

function loadError(env: NodeJS.ProcessEnv, yaml?: string): ConfigError {
  return expectConfigError(() => load(env, yaml));
}

describe('REGISTRY_* overrides', () => {
  it('sets http.addr, beating the file', () => {
    const { config, warnings } = load({ REGISTRY_HTTP_ADDR: '127.0.0.1:5055' }, 'http:\n  addr: :5000\n');
    assert.equal(config.http.addr, '127.0.0.1:5055');
    assert.deepEqual(warnings, []);
  });

  it('sets the filesystem root directory, and the metadata path follows it', () => {
    const { config } = load({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: '/srv/berth' });
    assert.equal(config.storage.driver, 'filesystem');
    assert.deepEqual(config.storage.filesystem, { rootdirectory: '/srv/berth' });
    assert.equal(config.meta.sqlite.path, '/srv/berth/berth.db');
  });

  it('sets the log level and other strings verbatim', () => {
    const { config } = load({ REGISTRY_LOG_LEVEL: 'debug', REGISTRY_HTTP_SECRET: '"quoted" & {not yaml}: [x]' });
    assert.equal(config.log.level, 'debug');
    assert.equal(config.http.secret, '"quoted" & {not yaml}: [x]');
  });

  it('matches name segments case-insensitively', () => {
    assert.equal(load({ REGISTRY_Http_Addr: ':5001' }).config.http.addr, ':5001');
  });

  it('coerces booleans according to the schema', () => {
    const cases: [string, boolean][] = [
      ['false', false],
      ['FALSE', false],
      ['no', false],
      ['0', false],
      ['true', true],
      ['True', true],
      ['yes', true],
      ['1', true],
    ];
    for (const [text, value] of cases) {
      const { config } = load({ REGISTRY_STORAGE_DELETE_ENABLED: text, REGISTRY_LOG_ACCESSLOG_DISABLED: text });
      assert.equal(config.storage.delete.enabled, value, text);
      assert.equal(config.log.accesslog.disabled, value, text);
    }
  });

  it('coerces numbers according to the schema', () => {
    assert.equal(load({ REGISTRY_CATALOG_MAXENTRIES: '250' }).config.catalog.maxentries, 250);
  });

  it('rejects a value that does not fit the type, naming the variable', () => {
    const err = loadError({ REGISTRY_STORAGE_DELETE_ENABLED: 'maybe', REGISTRY_CATALOG_MAXENTRIES: 'lots' });
    assert.deepEqual(err.problems, [
      { path: 'catalog.maxentries', reason: 'expected a number, got "lots"', source: 'REGISTRY_CATALOG_MAXENTRIES' },
      { path: 'storage.delete.enabled', reason: 'expected a boolean (true or false), got "maybe"', source: 'REGISTRY_STORAGE_DELETE_ENABLED' },
    ]);
    assert.match(err.message, /storage\.delete\.enabled: .* \(from REGISTRY_STORAGE_DELETE_ENABLED\)/);
  });

  it('names the variable when its value fails validation', () => {
    const err = loadError({ REGISTRY_HTTP_ADDR: ':70000' }, 'http:\n  addr: :5000\n');
    assert.deepEqual(err.problems, [{ path: 'http.addr', reason: 'port 70000 is out of range 0-65535', source: 'REGISTRY_HTTP_ADDR' }]);
  });

  it('parses durations given in the environment', () => {
    const { config } = load({ REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_AGE: '1h30m' });
    assert.equal(config.storage.maintenance.uploadpurging.age, 5_400_000);
  });

  it('adds headers, the rest of the name being the header name', () => {
    const { config } = load(
      { 'REGISTRY_HTTP_HEADERS_X-FOO': 'bar', 'REGISTRY_HTTP_HEADERS_X-LIST': '[a, b]', REGISTRY_HTTP_HEADERS_X_UNDER_SCORE: 'u' },
      'http:\n  headers:\n    X-Content-Type-Options: [nosniff]\n',
    );
    assert.deepEqual(config.http.headers, {
      'X-Content-Type-Options': ['nosniff'],
      'x-foo': ['bar'],
      'x-list': ['a', 'b'],
      x_under_score: ['u'],
    });
  });

  it('replaces a header from the file whose name differs only in case', () => {
    const { config } = load(
      { 'REGISTRY_HTTP_HEADERS_X-CONTENT-TYPE-OPTIONS': '[sniff]' },
      'http:\n  headers:\n    X-Content-Type-Options: [nosniff]\n',
    );
    assert.deepEqual(config.http.headers, { 'X-Content-Type-Options': ['sniff'] });
  });

  it('sets log fields, lowercasing new keys as distribution does', () => {
    const { config } = load({ REGISTRY_LOG_FIELDS_ENVIRONMENT: 'prod', REGISTRY_LOG_FIELDS_SERVICE_NAME: 'berth' });
    assert.deepEqual(config.log.fields, { environment: 'prod', service_name: 'berth' });
  });

  it('sets a whole section from a YAML mapping, warning about unknown keys in it', () => {
    const { config, warnings } = load({ REGISTRY_HTTP_TLS: '{certificate: /c.pem, key: /k.pem, bogus: 1}' });
    assert.deepEqual(config.http.tls, { certificate: '/c.pem', key: '/k.pem', clientcas: [] });
    assert.deepEqual(warnings, ['http.tls.bogus: unknown key, ignored (from REGISTRY_HTTP_TLS)']);
  });

  it('applies variables in lexical order, so a section comes before its keys', () => {
    const { config } = load({ REGISTRY_HTTP_TLS_KEY: '/k2.pem', REGISTRY_HTTP_TLS: '{certificate: /c.pem, key: /k.pem}' });
    assert.deepEqual(config.http.tls, { certificate: '/c.pem', key: '/k2.pem', clientcas: [] });
  });
});

describe('REGISTRY_* storage drivers', () => {
  const fileWithFilesystem = 'storage:\n  filesystem:\n    rootdirectory: /var/lib/registry\n  delete:\n    enabled: false\n';

  it('REGISTRY_STORAGE_INMEMORY replaces the driver named in the file, keeping the other storage settings', () => {
    const { config } = load({ REGISTRY_STORAGE_INMEMORY: '' }, fileWithFilesystem);
    assert.equal(config.storage.driver, 'inmemory');
    assert.equal('filesystem' in config.storage, false);
    assert.equal(config.storage.delete.enabled, false);
    assert.equal(config.meta.sqlite.path, ':memory:');
  });

  it('REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY replaces an inmemory driver from the file', () => {
    const { config } = load({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: '/srv/berth' }, 'storage: inmemory\n');
    assert.equal(config.storage.driver, 'filesystem');
    assert.deepEqual(config.storage.filesystem, { rootdirectory: '/srv/berth' });
  });

  it('REGISTRY_STORAGE=<driver> selects a driver with its defaults, as distribution does', () => {
    const { config } = load({ REGISTRY_STORAGE: 'inmemory' }, fileWithFilesystem);
    assert.equal(config.storage.driver, 'inmemory');
    const again = load({ REGISTRY_STORAGE: 'filesystem' }, fileWithFilesystem).config.storage;
    assert.deepEqual(again.driver === 'filesystem' && again.filesystem, { rootdirectory: './data' });
  });

  it('REGISTRY_STORAGE then REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY combine', () => {
    const { config } = load({ REGISTRY_STORAGE: 'filesystem', REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: '/tmp/testroot' }, 'storage: inmemory\n');
    assert.deepEqual(config.storage.driver === 'filesystem' && config.storage.filesystem, { rootdirectory: '/tmp/testroot' });
  });

  it('a driver chosen in the environment settles two drivers in the file', () => {
    const { config } = load({ REGISTRY_STORAGE: 'inmemory' }, 'storage:\n  filesystem: {}\n  inmemory: {}\n');
    assert.equal(config.storage.driver, 'inmemory');
  });

  it('rejects variables selecting two different drivers', () => {
    const err = loadError({ REGISTRY_STORAGE: 'inmemory', REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: '/srv' });
    assert.deepEqual(err.problems, [
      {
        path: 'storage',
        reason: 'REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY selects storage driver "filesystem" but REGISTRY_STORAGE selects "inmemory"',
        source: 'REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY',
      },
    ]);
  });

  it('rejects a driver section value that is not a mapping', () => {
    assert.match(loadError({ REGISTRY_STORAGE_INMEMORY: 'false' }).message, /storage\.inmemory: expected a mapping, got "false" \(from REGISTRY_STORAGE_INMEMORY\)/);
  });

  it('rejects a storage driver berth does not have', () => {
    assert.match(loadError({ REGISTRY_STORAGE: 'azure' }).message, /storage: storage driver "azure" is not supported by berth .*\(from REGISTRY_STORAGE\)/);
    assert.match(loadError({ REGISTRY_STORAGE_GCS_BUCKET: 'images' }).message, /storage\.gcs: storage driver "gcs" is not supported/);
  });
});

describe('REGISTRY_* variables that name no key', () => {
  it('warns about REGISTRY_AUTH_FILE (set for podman/skopeo) and carries on', () => {
    const { config, warnings } = load({ REGISTRY_AUTH_FILE: '/run/user/1000/containers/auth.json' });
    assert.equal(config.http.addr, '0.0.0.0:5000');
    assert.deepEqual(warnings, [
      'REGISTRY_AUTH_FILE: names no configuration key (auth.file), ignored',
    ]);
  });

  it('warns about names that match nothing, and about parts beyond a value', () => {
    const { config, warnings } = load({
      REGISTRY_FOO_BAR: 'x',
      REGISTRY_HTTP_ADDR_PORT: '1',
      REGISTRY_HTTP__ADDR: ':1',
      REGISTRY_: 'x',
      REGISTRY_HTTP_HEADERS___PROTO__: '[x]',
    });
    assert.deepEqual(config.http.headers, {});
    assert.deepEqual(warnings, [
      'REGISTRY_: names no configuration key, ignored',
      'REGISTRY_FOO_BAR: names no configuration key (foo.bar), ignored',
      'REGISTRY_HTTP_ADDR_PORT: names no configuration key (http.addr.port), ignored',
      'REGISTRY_HTTP_HEADERS___PROTO__: names no configuration key, ignored',
      'REGISTRY_HTTP__ADDR: names no configuration key, ignored',
    ]);
  });

  it('ignores variables without the REGISTRY_ prefix and REGISTRY_CONFIGURATION_PATH', () => {
    const { warnings } = load({ HOME: '/root', REGISTRY: 'x', registry_http_addr: ':1', REGISTRY_CONFIGURATION_PATH: '' });
    assert.deepEqual(warnings, []);
  });
});

describe('_env: references in the file', () => {
  it('replaces _env:VAR by the variable', () => {
    const { config } = load({ DATA_DIR: '/srv/data' }, 'storage:\n  filesystem:\n    rootdirectory: _env:DATA_DIR\n');
    assert.equal(config.storage.driver, 'filesystem');
    assert.deepEqual(config.storage.filesystem, { rootdirectory: '/srv/data' });
  });

  it('uses the default of _env:VAR:DEFAULT when the variable is unset, and the variable when set (even empty)', () => {
    const yaml = 'http:\n  addr: _env:ADDR:127.0.0.1:5000\n  prefix: _env:PREFIX:/r\n';
    assert.equal(load({}, yaml).config.http.addr, '127.0.0.1:5000');
    assert.equal(load({ ADDR: ':6000' }, yaml).config.http.addr, ':6000');
    assert.equal(load({ PREFIX: '' }, yaml).config.http.prefix, '');
  });

  it('coerces the value to the key type', () => {
    const yaml = 'storage:\n  delete:\n    enabled: _env:DELETE_ENABLED:true\ncatalog:\n  maxentries: _env:MAX\nhttp:\n  headers:\n    X-A: _env:XA\n';
    const { config } = load({ DELETE_ENABLED: 'false', MAX: '50', XA: '[one, two]' }, yaml);
    assert.equal(config.storage.delete.enabled, false);
    assert.equal(config.catalog.maxentries, 50);
    assert.deepEqual(config.http.headers, { 'X-A': ['one', 'two'] });
  });

  it('substitutes inside lists', () => {
    const { config } = load({ CA: '/ca.pem' }, 'http:\n  tls:\n    certificate: /c\n    key: /k\n    clientcas: [_env:CA, /other.pem]\n');
    assert.deepEqual(config.http.tls?.clientcas, ['/ca.pem', '/other.pem']);
  });

  it('fails when the variable is unset and there is no default, naming the key, the variable and the line', () => {
    const err = loadError({}, 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: _env:DATA_DIR\n');
    assert.deepEqual(err.problems, [
      {
        path: 'storage.filesystem.rootdirectory',
        reason: 'environment variable DATA_DIR is not set and "_env:DATA_DIR" has no default',
        line: 4,
        column: 5,
      },
    ]);
  });

  it('fails on a value of the wrong type, naming the variable', () => {
    const err = loadError({ DELETE_ENABLED: 'perhaps' }, 'storage:\n  delete:\n    enabled: _env:DELETE_ENABLED\n');
    assert.match(err.message, /storage\.delete\.enabled: expected a boolean \(true or false\), got "perhaps" \(line 3, from DELETE_ENABLED\)/);
  });

  it('names the variable when the substituted value fails validation', () => {
    const err = loadError({ ADDR: 'nowhere' }, 'http:\n  addr: _env:ADDR\n');
    assert.deepEqual(err.problems.map((p) => [p.path, p.line, p.source]), [['http.addr', 2, 'ADDR']]);
  });

  it('rejects a malformed reference', () => {
    assert.match(loadError({}, 'http:\n  secret: "_env:"\n').message, /http\.secret: malformed reference "_env:"/);
  });

  it('does not fail on an unset variable when a REGISTRY_* variable replaces the key', () => {
    const yaml = 'storage:\n  filesystem:\n    rootdirectory: _env:DATA_DIR\n';
    assert.equal(load({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: '/x' }, yaml).config.meta.sqlite.path, '/x/berth.db');
    assert.equal(load({ REGISTRY_STORAGE: 'inmemory' }, yaml).config.storage.driver, 'inmemory');
  });
});

describe('precedence', () => {
  const yaml = 'http:\n  addr: _env:BERTH_ADDR:127.0.0.1:5001\n  prefix: /file\n';

  it('file < _env: < REGISTRY_* < overrides', () => {
    const fileOnly = loadConfig({ env: {}, file: configFile('http:\n  addr: 127.0.0.1:5000\n') }).config.http;
    assert.equal(fileOnly.addr, '127.0.0.1:5000');
    assert.equal(load({}, yaml).config.http.addr, '127.0.0.1:5001');
    assert.equal(load({ BERTH_ADDR: '127.0.0.1:5002' }, yaml).config.http.addr, '127.0.0.1:5002');
    assert.equal(load({ BERTH_ADDR: '127.0.0.1:5002', REGISTRY_HTTP_ADDR: '127.0.0.1:5003' }, yaml).config.http.addr, '127.0.0.1:5003');
    const withOverride = loadConfig({
      env: { BERTH_ADDR: '127.0.0.1:5002', REGISTRY_HTTP_ADDR: '127.0.0.1:5003' },
      file: configFile(yaml),
      overrides: { http: { addr: '127.0.0.1:5004' } },
    });
    assert.equal(withOverride.config.http.addr, '127.0.0.1:5004');
    assert.equal(withOverride.config.http.prefix, '/file', 'keys not overridden keep their file value');
  });
});
