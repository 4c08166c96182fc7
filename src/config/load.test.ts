/**
 * loadConfig with config files: defaults, distribution's own sample config, ignored and
 * unknown keys, value normalisation, overrides. Errors are in load-errors.test.ts, environment
 * overrides and `_env:` references in env.test.ts.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { configFiles, DISTRIBUTION_SAMPLE, expectConfigError } from './test-support.ts';
import { DEFAULT_BUILDS_WORKDIR } from './builds-schema.ts';
import { loadConfig, type ConfigError, type Config, type LoadOptions } from './load.ts';

const configFile = configFiles('config');

/** Loads `yaml` with an empty environment (never the test runner's own REGISTRY_* variables). */
function load(yaml: string, opts: LoadOptions = {}): { config: Config; warnings: string[] } {
  return loadConfig({ env: {}, ...opts, file: configFile(yaml) });
}

function loadError(yaml: string, opts: LoadOptions = {}): ConfigError {
  return expectConfigError(() => load(yaml, opts));
}


describe('loadConfig: defaults', () => {
  it('fills every default with no file and no environment', () => {
    const { config, warnings } = loadConfig({ env: {} });
    const expected: Config = {
      version: '0.1',
      log: { level: 'info', formatter: 'json', fields: {}, accesslog: { disabled: false } },
      http: {
        addr: '0.0.0.0:5000',
        net: 'tcp',
        prefix: '',
        relativeurls: false,
        headers: {},
        trustedproxies: [],
        tls: undefined,
        debug: { prometheus: { enabled: false, path: '/metrics' } },
      },
      storage: {
        driver: 'filesystem',
        filesystem: { rootdirectory: './data' },
        delete: { enabled: true },
        redirect: { disable: false },
        maintenance: {
          uploadpurging: { enabled: true, age: 168 * 3_600_000, interval: 24 * 3_600_000, dryrun: false },
          readonly: { enabled: false },
        },
        gc: { interval: 3_600_000, grace: 3_600_000, untagged: 'keep' },
      },
      meta: { sqlite: { path: join('./data', 'berth.db') } },
      database: { enabled: false, host: 'localhost', port: 5432, user: 'berth', dbname: 'berth', connecttimeout: 10_000, pool: { maxopen: 10, maxidle: 5, maxidletime: 30_000 } },
      catalog: { maxentries: 1000 },
      validation: { disabled: false, manifests: { urls: { allow: [], deny: [] } } },
      access: { defaultvisibility: 'private', maxprivaterepos: 0, immutable: [], quota: { default: 0, namespaces: {} } },
      ui: { enabled: true, sessionttl: 12 * 3_600_000, storagesampleinterval: 3_600_000 },
      health: { storagedriver: { enabled: false, interval: 10_000, threshold: 1 } },
      metrics: { enabled: true },
      retention: { policies: [] },
      builds: { enabled: false, concurrency: 1, timeout: 3_600_000, workdir: DEFAULT_BUILDS_WORKDIR, builder: 'buildah', logsize: 1024 * 1024, pollinterval: 300_000 },
      replication: { rules: [] },
    };
    assert.deepEqual(config, expected);
    assert.deepEqual(warnings, []);
  });

  it('treats an empty file, or one with only comments, as all defaults', () => {
    assert.deepEqual(load('').config, loadConfig({ env: {} }).config);
    assert.deepEqual(load('# nothing here\n').config, loadConfig({ env: {} }).config);
  });

  it('treats empty sections and empty values as unset', () => {
    const { config } = load('log:\nhttp:\n  addr:\nstorage:\n  delete:\n');
    assert.equal(config.log.level, 'info');
    assert.equal(config.http.addr, '0.0.0.0:5000');
    assert.equal(config.storage.delete.enabled, true);
  });

  it('reads the file named by REGISTRY_CONFIGURATION_PATH when no file is given, without warning about it', () => {
    const file = configFile('http:\n  addr: 127.0.0.1:5055\n');
    const { config, warnings } = loadConfig({ env: { REGISTRY_CONFIGURATION_PATH: file } });
    assert.equal(config.http.addr, '127.0.0.1:5055');
    assert.deepEqual(warnings, []);
  });
});

describe('loadConfig: DOCKER_REGISTRY_CONFIG, the docker-registry image\'s name for the config file', () => {
  it('reads the file it names when no file is given, with a one-line notice naming berth\'s own way', () => {
    const file = configFile('http:\n  addr: 127.0.0.1:5056\n');
    const loaded = loadConfig({ env: { DOCKER_REGISTRY_CONFIG: file } });
    assert.equal(loaded.config.http.addr, '127.0.0.1:5056');
    assert.equal(loaded.file, file);
    assert.deepEqual(loaded.warnings, [
      `DOCKER_REGISTRY_CONFIG=${file} selects the config file; berth's own way is --config FILE or REGISTRY_CONFIGURATION_PATH`,
    ]);
  });

  it('lets the file option and REGISTRY_CONFIGURATION_PATH beat it, saying which one was used', () => {
    const legacy = configFile('http:\n  addr: :5001\n');
    const own = configFile('http:\n  addr: :5002\n');
    const byOption = loadConfig({ file: own, env: { DOCKER_REGISTRY_CONFIG: legacy, REGISTRY_CONFIGURATION_PATH: legacy } });
    assert.equal(byOption.config.http.addr, ':5002');
    assert.deepEqual(byOption.warnings, [`DOCKER_REGISTRY_CONFIG=${legacy} ignored: --config selects the config file ${own}`]);
    const byVariable = loadConfig({ env: { DOCKER_REGISTRY_CONFIG: legacy, REGISTRY_CONFIGURATION_PATH: own } });
    assert.equal(byVariable.config.http.addr, ':5002');
    assert.deepEqual(byVariable.warnings, [
      `DOCKER_REGISTRY_CONFIG=${legacy} ignored: REGISTRY_CONFIGURATION_PATH selects the config file ${own}`,
    ]);
  });

  it('treats an empty DOCKER_REGISTRY_CONFIG as unset, and an empty REGISTRY_CONFIGURATION_PATH as not beating it', () => {
    const empty = loadConfig({ env: { DOCKER_REGISTRY_CONFIG: '' } });
    assert.equal(empty.file, undefined);
    assert.deepEqual(empty.warnings, []);
    const file = configFile('http:\n  addr: :5003\n');
    assert.equal(loadConfig({ env: { DOCKER_REGISTRY_CONFIG: file, REGISTRY_CONFIGURATION_PATH: '' } }).config.http.addr, ':5003');
  });

  it('fails on a missing file, naming the variable', () => {
    const missing = configFile('').replace(/config-\d+\.yml$/, 'missing.yml');
    const err = expectConfigError(() => loadConfig({ env: { DOCKER_REGISTRY_CONFIG: missing } }));
    assert.equal(err.file, missing);
    assert.equal(err.problems[0]?.source, 'DOCKER_REGISTRY_CONFIG');
    assert.match(err.message, /missing\.yml: cannot read config file named by DOCKER_REGISTRY_CONFIG: ENOENT/);
  });
});

describe('loadConfig: distribution compatibility', () => {
  it("loads distribution's sample config unchanged, warning only about the sections berth ignores", () => {
    const { config, warnings } = load(DISTRIBUTION_SAMPLE);
    assert.equal(config.version, '0.1');
    assert.deepEqual(config.log.fields, { service: 'registry' });
    assert.equal(config.storage.driver, 'filesystem');
    assert.deepEqual(config.storage.filesystem, { rootdirectory: '/var/lib/registry' });
    assert.equal(config.http.addr, ':5000');
    assert.deepEqual(config.http.headers, { 'X-Content-Type-Options': ['nosniff'] });
    assert.equal(config.meta.sqlite.path, '/var/lib/registry/berth.db');
    assert.deepEqual(warnings, ['storage.cache.blobdescriptor: ignored: berth keeps blob descriptors in its metadata store']);
    assert.deepEqual(config.health.storagedriver, { enabled: true, interval: 10_000, threshold: 3 });
  });

  it('warns for each key of every section berth does not implement, and says when auth is off', () => {
    const { warnings } = load(`version: 0.1
auth:
  silly: { realm: silly-realm, service: silly-service }
redis: { addr: 'localhost:6379' }
proxy: { remoteurl: 'https://registry-1.docker.io' }
middleware: { registry: [] }
reporting: { bugsnag: { apikey: x } }
compatibility: { schema1: { enabled: true } }
storage:
  tag: { concurrencylimit: 8 }
http:
  draintimeout: 60s
  http2: { disabled: false }
`);
    assert.deepEqual(warnings, [
      "auth.silly.realm: distribution's test-only access controller, ignored",
      "auth.silly.service: distribution's test-only access controller, ignored",
      'redis.addr: not implemented by berth yet, ignored',
      'middleware.registry: not implemented by berth yet, ignored',
      'reporting.bugsnag: not implemented by berth yet, ignored',
      'compatibility.schema1: not implemented by berth yet, ignored',
      'storage.tag.concurrencylimit: not implemented by berth, ignored',
      'http.draintimeout: not implemented by berth yet, ignored',
      'http.http2.disabled: not implemented by berth, ignored',
    ]);
  });

  it('does not substitute or validate anything inside an ignored section', () => {
    const { warnings } = load('auth:\n  token:\n    rootcertbundle: _env:UNSET_BUNDLE\n');
    assert.deepEqual(warnings, [
      'auth.token.rootcertbundle: berth verifies tokens of its own token server only (its keys: auth.token.keydirectory), ignored',
    ]);
  });

  it('keeps the text of a version, or any string key, written as a number', () => {
    assert.equal(load('version: 0.10\n').config.version, '0.10');
    const { config } = load('http:\n  secret: 0123\n  prefix: /v1.0\nlog:\n  fields:\n    dc: 7\n    canary: true\n');
    assert.equal(config.http.secret, '0123');
    assert.deepEqual(config.log.fields, { dc: '7', canary: 'true' });
  });

  it('reads unquoted yes/no/on/off as booleans, as Go YAML does', () => {
    const { config } = load('storage:\n  delete:\n    enabled: no\n  redirect:\n    disable: on\n');
    assert.equal(config.storage.delete.enabled, false);
    assert.equal(config.storage.redirect.disable, true);
  });

  it('accepts `storage: inmemory` and an empty driver section', () => {
    for (const yaml of ['storage: inmemory\n', 'storage:\n  inmemory:\n', 'storage:\n  inmemory: {}\n']) {
      const { config } = load(yaml);
      assert.equal(config.storage.driver, 'inmemory');
      assert.equal(config.meta.sqlite.path, ':memory:');
    }
    const { config } = load('storage:\n  filesystem:\n');
    assert.equal(config.storage.driver, 'filesystem');
    assert.deepEqual(config.storage.filesystem, { rootdirectory: './data' });
  });

  it('supports YAML anchors and merge keys', () => {
    const { config } = load('x-common: &common\n  enabled: false\n');
    assert.equal(config.version, '0.1');
    const merged = load('storage:\n  delete: &off { enabled: false }\n  maintenance:\n    readonly:\n      <<: *off\n');
    assert.equal(merged.config.storage.maintenance.readonly.enabled, false);
  });
});

describe('loadConfig: values', () => {
  it('lowercases the log level, as distribution does', () => {
    assert.equal(load('log:\n  level: DEBUG\n').config.log.level, 'debug');
  });

  it('normalises the route prefix', () => {
    assert.equal(load('http:\n  prefix: /registry/\n').config.http.prefix, '/registry');
    assert.equal(load('http:\n  prefix: /\n').config.http.prefix, '');
  });

  it('takes a single header value as a list of one', () => {
    assert.deepEqual(load('http:\n  headers:\n    X-Frame-Options: DENY\n').config.http.headers, { 'X-Frame-Options': ['DENY'] });
  });

  it('yields tls only when a certificate and key are both set', () => {
    const { config } = load('http:\n  tls:\n    certificate: /c.pem\n    key: /k.pem\n    clientcas: [/ca.pem]\n');
    assert.deepEqual(config.http.tls, { certificate: '/c.pem', key: '/k.pem', clientcas: ['/ca.pem'] });
    assert.equal(load('http:\n  tls: {}\n').config.http.tls, undefined);
  });

  it('parses upload purging durations into milliseconds', () => {
    const { config } = load(
      'storage:\n  maintenance:\n    uploadpurging:\n      enabled: false\n      age: 1h30m\n      interval: 30m\n      dryrun: true\n',
    );
    assert.deepEqual(config.storage.maintenance.uploadpurging, { enabled: false, age: 5_400_000, interval: 1_800_000, dryrun: true });
  });

  it('uses an explicit meta.sqlite.path, and accepts validation, host, debug and readonly settings', () => {
    const { config, warnings } = load(`meta:
  sqlite:
    path: /var/lib/berth/meta.db
http:
  host: https://registry.example.com:5000
  debug:
    addr: localhost:5001
storage:
  maintenance:
    readonly:
      enabled: true
validation:
  disabled: true
  manifests:
    urls:
      allow: ['^https?://([^/]+\\.)*example\\.com/']
      deny: ['^https?://www\\.example\\.com/']
`);
    assert.deepEqual(warnings, []);
    assert.equal(config.meta.sqlite.path, '/var/lib/berth/meta.db');
    assert.equal(config.http.host, 'https://registry.example.com:5000');
    assert.equal(config.http.debug.addr, 'localhost:5001');
    assert.equal(config.storage.maintenance.readonly.enabled, true);
    assert.equal(config.validation.disabled, true);
    assert.equal(config.validation.manifests.urls.allow.length, 1);
  });
});

describe('loadConfig: unknown keys', () => {
  it('warns with the path of each unknown key and drops it', () => {
    const { config, warnings } = load('http:\n  foo: 1\n  addr: :5001\nstorage:\n  maintenance:\n    bogus: true\nextra: {}\n');
    assert.equal(config.http.addr, ':5001');
    assert.deepEqual(warnings, [
      'http.foo: unknown key, ignored',
      'storage.maintenance.bogus: unknown key, ignored',
      'extra: unknown key, ignored',
    ]);
  });

  it('suggests the right spelling when only the case is wrong', () => {
    const { config, warnings } = load('http:\n  Addr: :5001\n');
    assert.equal(config.http.addr, '0.0.0.0:5000');
    assert.deepEqual(warnings, ['http.Addr: unknown key, ignored (did you mean "addr"? keys are case-sensitive)']);
  });
});

describe('loadConfig: overrides', () => {
  it('applies overrides over the file and the environment', () => {
    const { config } = load('http:\n  addr: :5000\n', {
      env: { REGISTRY_HTTP_ADDR: ':5001' },
      overrides: { http: { addr: ':5002' }, storage: { inmemory: {} } },
    });
    assert.equal(config.http.addr, ':5002');
    assert.equal(config.storage.driver, 'inmemory');
  });

  it('attributes an invalid override to "overrides"', () => {
    const err = loadError('http:\n  addr: :5000\n', { overrides: { http: { addr: 'nope' } } });
    assert.deepEqual(err.problems.map((p) => [p.path, p.source, p.line]), [['http.addr', 'overrides', undefined]]);
    assert.match(err.message, /http\.addr: .* \(from overrides\)/);
  });
});
