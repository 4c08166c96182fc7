/**
 * loadConfig failing loudly: every way a config file can be wrong must stop start-up with a
 * ConfigError naming the key, the reason and the line (CONVENTIONS item 11).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFiles, expectConfigError } from './test-support.ts';
import { loadConfig, type ConfigError, type Config, type LoadOptions } from './load.ts';

const configFile = configFiles('config-errors');

/** Loads `yaml` with an empty environment (never the test runner's own REGISTRY_* variables). */
function load(yaml: string, opts: LoadOptions = {}): { config: Config; warnings: string[] } {
  return loadConfig({ env: {}, ...opts, file: configFile(yaml) });
}

function loadError(yaml: string, opts: LoadOptions = {}): ConfigError {
  return expectConfigError(() => load(yaml, opts));
}

describe('loadConfig: errors', () => {
  it('is a ConfigError with a stable code, naming the file', () => {
    const err = loadError('http:\n  addr: nope\n');
    assert.ok(err instanceof Error);
    assert.equal(err.code, 'BERTH_CONFIG_INVALID');
    assert.equal(err.name, 'ConfigError');
    assert.match(err.message, /^invalid configuration in .*config-\d+\.yml \(1 problem\):\n {2}http\.addr: /);
  });

  it('reports a bad type with the key path, the value found, and the line', () => {
    const err = loadError('version: 0.1\nhttp:\n  relativeurls: "maybe"\n');
    assert.deepEqual(err.problems, [
      { path: 'http.relativeurls', reason: 'expected a boolean (true or false), got string "maybe"', line: 3, column: 3 },
    ]);
    assert.match(err.message, /http\.relativeurls: expected a boolean \(true or false\), got string "maybe" \(line 3\)/);
  });

  it('reports a mapping where a value is expected, and a value where a mapping is expected', () => {
    const err = loadError('http:\n  addr:\n    host: x\nlog: loud\n');
    assert.deepEqual(
      err.problems.map((p) => `${p.path}: ${p.reason}`),
      ['log: expected a mapping, got string "loud"', 'http.addr: expected a string, got a mapping'],
    );
  });

  const badAddrs: [string, RegExp][] = [
    [':99999', /http\.addr: port 99999 is out of range 0-65535 \(line 2\)/],
    ['localhost', /http\.addr: expected "host:port" or ":port", got "localhost"/],
    ['"::1:5000"', /http\.addr: IPv6 host "::1" must be in brackets/],
    [':http', /http\.addr: port "http" is not a number/],
  ];
  for (const [addr, message] of badAddrs) {
    it(`rejects http.addr ${addr}`, () => {
      assert.match(loadError(`http:\n  addr: ${addr}\n`).message, message);
    });
  }

  it('rejects bad durations, naming the key', () => {
    const err = loadError('storage:\n  maintenance:\n    uploadpurging:\n      age: 7d\n      interval: 0s\n');
    assert.deepEqual(
      err.problems.map((p) => [p.path, p.line]),
      [
        ['storage.maintenance.uploadpurging.age', 4],
        ['storage.maintenance.uploadpurging.interval', 5],
      ],
    );
    assert.match(err.problems[0]?.reason ?? '', /invalid duration "7d": unknown unit "d".*"168h"/);
    assert.match(err.problems[1]?.reason ?? '', /duration "0s" must be greater than zero/);
  });

  it('rejects a duration written as a bare number', () => {
    assert.match(loadError('storage:\n  maintenance:\n    uploadpurging:\n      age: 3600\n').message, /age: invalid duration "3600": missing unit/);
  });

  it('rejects two storage drivers, naming both', () => {
    const err = loadError('storage:\n  filesystem:\n    rootdirectory: /srv\n  inmemory:\n');
    assert.deepEqual(err.problems, [
      { path: 'storage', reason: 'exactly one storage driver may be configured, found 2: filesystem, inmemory', line: 1, column: 1 },
    ]);
  });

  it('rejects a storage driver berth does not have, rather than silently storing elsewhere', () => {
    const err = loadError('storage:\n  azure:\n    accountname: a\n    container: images\n');
    assert.deepEqual(err.problems.map((p) => `${p.path}: ${p.reason} @${p.line}`), [
      'storage.azure: storage driver "azure" is not supported by berth (supported: filesystem, inmemory, s3) @2',
    ]);
  });

  it('rejects an unknown driver in the short `storage: <driver>` form', () => {
    assert.match(loadError('storage: gcs\n').message, /storage: storage driver "gcs" is not supported by berth \(supported: filesystem, inmemory, s3\) \(line 1\)/);
    assert.match(loadError('storage: nosuch\n').message, /storage driver "nosuch" is not supported/);
  });

  it('never lets a record key reach an object prototype', () => {
    const { config, warnings } = load('http:\n  headers:\n    __proto__: [x]\n    X-A: [a]\n');
    assert.deepEqual(config.http.headers, { 'X-A': ['a'] });
    assert.equal(Object.getPrototypeOf(config.http.headers), Object.prototype);
    assert.deepEqual(warnings, ['http.headers.__proto__: reserved name, ignored']);
  });

  it('rejects other invalid values', () => {
    const err = loadError(`log:
  level: verbose
  formatter: logstash
http:
  net: unix
  prefix: registry
  host: registry.example.com
  secret: ''
  tls:
    certificate: /c.pem
    clientcas: /ca.pem
catalog:
  maxentries: 0
validation:
  manifests:
    urls:
      allow: ['(unclosed']
`);
    assert.deepEqual(
      err.problems.map((p) => `${p.path}@${p.line}`),
      [
        'log.level@2',
        'log.formatter@3',
        'http.net@5',
        'http.prefix@6',
        'http.host@7',
        'http.secret@8',
        'http.tls.key@9',
        'catalog.maxentries@13',
        'validation.manifests.urls.allow.0@17',
      ],
    );
    const reasons = err.problems.map((p) => p.reason);
    assert.match(reasons[0] ?? '', /must be one of "error", "warn", "info", "debug"; got string "verbose"/);
    assert.match(reasons[2] ?? '', /must be one of "tcp"; got string "unix"/);
    assert.match(reasons[3] ?? '', /must start with "\/"/);
    assert.match(reasons[4] ?? '', /absolute http:\/\/ or https:\/\/ URL/);
    assert.match(reasons[5] ?? '', /must not be empty/);
    assert.match(reasons[6] ?? '', /required when http\.tls\.certificate is set/);
    assert.match(reasons[7] ?? '', /must be greater than 0; got number 0/);
    assert.match(reasons[8] ?? '', /not a valid regular expression/);
  });

  it('reports a YAML syntax error with the file, line and column', () => {
    const err = loadError('version: 0.1\nhttp:\n  addr: :5000\n  headers: [a,\n');
    const [problem] = err.problems;
    assert.equal(problem?.path, '');
    assert.equal(problem?.line, 5);
    assert.equal(typeof problem?.column, 'number');
    assert.match(problem?.reason ?? '', /^YAML syntax error: /);
    assert.ok(err.file?.endsWith('.yml'));
    assert.match(err.message, /config-\d+\.yml:5:\d+: YAML syntax error: /);
  });

  it('reports bad indentation and duplicate keys as syntax errors with their line', () => {
    assert.equal(loadError('http:\n  addr: :5000\n\tnet: tcp\n').problems[0]?.line, 3);
    const dup = loadError('http:\n  addr: :5000\n  addr: :5001\n');
    assert.equal(dup.problems[0]?.line, 3);
    assert.match(dup.problems[0]?.reason ?? '', /unique/);
  });

  it('rejects a file that is not a mapping', () => {
    assert.match(loadError('- a\n- b\n').message, /expected a mapping of configuration keys at the top level/);
  });

  it('rejects a file that cannot be read', () => {
    const missing = configFile('').replace(/config-\d+\.yml$/, 'missing.yml');
    const err = expectConfigError(() => loadConfig({ file: missing, env: {} }));
    assert.match(err.message, /missing\.yml: cannot read config file: ENOENT/);
  });

  it('lists every problem at once', () => {
    const err = loadError('http:\n  addr: x\n  relativeurls: 3\nstorage:\n  delete:\n    enabled: sometimes\n');
    assert.equal(err.problems.length, 3);
    assert.match(err.message, /\(3 problems\)/);
  });
});

