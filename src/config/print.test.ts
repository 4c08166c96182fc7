/**
 * The effective configuration as printed by `berth config check`: in the file's form (it loads
 * back to the same config), with the declared secrets masked and nothing else.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { configFiles } from './test-support.ts';
import { loadConfig, type LoadedConfig } from './load.ts';
import { effectiveConfigYaml } from './print.ts';
import { configReference, flattenReference } from './reference.ts';
import { MASK, NOT_SECRET_KEYS, SECRET_KEYS } from './secrets.ts';

const configFile = configFiles('config-print');

function load(yaml: string): LoadedConfig {
  return loadConfig({ env: {}, file: configFile(yaml) });
}

const WITH_SECRETS = `http:
  secret: http-secret-value
  tls:
    certificate: /etc/berth/cert.pem
    key: /etc/berth/key.pem
notifications:
  endpoints:
    - name: audit
      url: https://events.example.com/hook
      headers:
        Authorization: [Bearer header-token-value]
      secret: hmac-secret-value
`;

describe('effectiveConfigYaml: secrets', () => {
  const printed = effectiveConfigYaml(load(WITH_SECRETS).config);
  const tree = parse(printed) as {
    http: { secret: string; tls: { key: string } };
    notifications: { endpoints: { name: string; headers: Record<string, string[]>; secret: string }[] };
  };

  it('masks every declared secret, and no secret value appears anywhere', () => {
    assert.equal(tree.http.secret, MASK);
    assert.equal(tree.notifications.endpoints[0]?.secret, MASK);
    for (const value of ['http-secret-value', 'header-token-value', 'hmac-secret-value']) {
      assert.ok(!printed.includes(value), `${value} printed:\n${printed}`);
    }
  });

  it("keeps header names and the number of values, masking each value", () => {
    assert.deepEqual(tree.notifications.endpoints[0]?.headers, { Authorization: [MASK] });
  });

  it('does not mask keys that only look secret, such as the TLS key file path', () => {
    assert.equal(tree.http.tls.key, '/etc/berth/key.pem');
    assert.equal(tree.notifications.endpoints[0]?.name, 'audit');
  });

  it('prints nothing for a secret that is not set', () => {
    assert.equal((parse(effectiveConfigYaml(load('').config)) as { http: Record<string, unknown> }).http['secret'], undefined);
  });
});

describe('effectiveConfigYaml: file form', () => {
  it('loads back to the same configuration, with no warnings', () => {
    const yaml = `log:
  level: debug
  fields: { dc: eu-1 }
http:
  addr: 127.0.0.1:5055
  prefix: /registry
  headers: { X-Frame-Options: [DENY] }
  tls: { certificate: /c.pem, key: /k.pem, clientcas: [/ca.pem] }
storage:
  inmemory:
  maintenance:
    uploadpurging: { age: 1h30m, interval: 1500ms }
notifications:
  endpoints:
    - { name: a, url: 'https://a.example/', timeout: 2s, ignore: { actions: [pull] } }
health:
  storagedriver: { enabled: true, interval: 30s }
`;
    const { config } = load(yaml);
    const printed = effectiveConfigYaml(config);
    const again = load(printed);
    assert.deepEqual(again.config, config);
    assert.deepEqual(again.warnings, []);
    assert.match(printed, /age: 1h30m\n/);
    assert.match(printed, /interval: 1s500ms\n/);
  });

  it('leaves out fields a file cannot hold (storage.driver) and sections that are off (tls)', () => {
    const tree = parse(effectiveConfigYaml(load('').config)) as { storage: Record<string, unknown>; http: Record<string, unknown> };
    assert.equal(tree.storage['driver'], undefined);
    assert.deepEqual(tree.storage['filesystem'], { rootdirectory: './data' });
    assert.equal(tree.http['tls'], undefined);
  });
});

describe('secret key declarations', () => {
  const paths = flattenReference(configReference()).map((ref) => ref.path);

  it('name only keys that exist', () => {
    for (const path of [...SECRET_KEYS, ...Object.keys(NOT_SECRET_KEYS)]) assert.ok(paths.includes(path), `${path} is not a key`);
  });

  it('decide every key named like a secret: masked, or listed as not secret with the reason', () => {
    const looksSecret = /(pass(word)?|secret|token|key|credentials?|apikey|auth)$/i;
    for (const path of paths.filter((p) => looksSecret.test(p.split('.').at(-1) ?? ''))) {
      assert.ok(SECRET_KEYS.includes(path) || path in NOT_SECRET_KEYS, `${path}: add it to SECRET_KEYS or NOT_SECRET_KEYS in secrets.ts`);
    }
  });
});
