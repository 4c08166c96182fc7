/**
 * The `notifications` section: distribution's endpoint keys with their defaults and durations,
 * berth's `secret`, `events.includereferences`, REGISTRY_* overrides, and the errors.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFiles, expectConfigError } from './test-support.ts';
import { loadConfig, type Config, type ConfigError, type LoadOptions } from './load.ts';
import { IGNORED_KEYS } from './ignored.ts';

const configFile = configFiles('notifications');

function load(yaml: string, opts: LoadOptions = {}): { config: Config; warnings: string[] } {
  return loadConfig({ env: {}, ...opts, file: configFile(yaml) });
}

function loadError(yaml: string): ConfigError {
  return expectConfigError(() => load(yaml));
}

/** The notifications section of distribution's configuration reference. */
const DISTRIBUTION_NOTIFICATIONS = `version: 0.1
notifications:
  events:
    includereferences: true
  endpoints:
    - name: alistener
      disabled: false
      url: https://my.listener.com/event
      headers: <http.Header>
      timeout: 1s
      threshold: 10
      backoff: 1s
      ignoredmediatypes:
        - application/octet-stream
      ignore:
        mediatypes:
           - application/octet-stream
        actions:
           - pull
`.replace('headers: <http.Header>', 'headers:\n        Authorization: [Bearer token]');

describe('config: notifications', () => {
  it("loads distribution's example section, every key implemented, no warning", () => {
    const { config, warnings } = load(DISTRIBUTION_NOTIFICATIONS);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.notifications, {
      events: { includereferences: true },
      endpoints: [
        {
          name: 'alistener',
          disabled: false,
          url: 'https://my.listener.com/event',
          headers: { Authorization: ['Bearer token'] },
          timeout: 1000,
          threshold: 10,
          backoff: 1000,
          ignoredmediatypes: ['application/octet-stream'],
          ignore: { mediatypes: ['application/octet-stream'], actions: ['pull'] },
        },
      ],
    });
    assert.equal(IGNORED_KEYS.has('notifications'), false);
  });

  it('fills the defaults of an endpoint given only a name and url, and accepts a secret', () => {
    const { config } = load('notifications:\n  endpoints:\n    - name: a\n      url: http://127.0.0.1:9/x\n      secret: k\n');
    assert.deepEqual(config.notifications, {
      events: { includereferences: false },
      endpoints: [
        {
          name: 'a',
          disabled: false,
          url: 'http://127.0.0.1:9/x',
          headers: {},
          timeout: 1000,
          threshold: 10,
          backoff: 1000,
          ignoredmediatypes: [],
          ignore: { mediatypes: [], actions: [] },
          secret: 'k',
        },
      ],
    });
  });

  it('reads Go durations, a single header value as a list, and threshold 0 as the default', () => {
    const { config } = load(`notifications:
  endpoints:
    - name: a
      url: http://h/
      timeout: 500ms
      backoff: 1m30s
      threshold: 0
      headers: { X-Token: abc }
`);
    const [endpoint] = config.notifications?.endpoints ?? [];
    assert.equal(endpoint?.timeout, 500);
    assert.equal(endpoint?.backoff, 90_000);
    assert.equal(endpoint?.threshold, 10);
    assert.deepEqual(endpoint?.headers, { 'X-Token': ['abc'] });
  });

  it('is absent without a notifications section', () => {
    assert.equal(load('version: 0.1\n').config.notifications, undefined);
  });

  it('takes endpoints from REGISTRY_NOTIFICATIONS_ENDPOINTS as a YAML list', () => {
    const env = { REGISTRY_NOTIFICATIONS_ENDPOINTS: '[{name: env, url: "http://h:1/e", backoff: 2s}]', REGISTRY_NOTIFICATIONS_EVENTS_INCLUDEREFERENCES: 'true' };
    const { config } = load('version: 0.1\n', { env });
    assert.equal(config.notifications?.endpoints[0]?.name, 'env');
    assert.equal(config.notifications?.endpoints[0]?.backoff, 2000);
    assert.equal(config.notifications?.events.includereferences, true);
  });

  it('warns about an unknown key inside an endpoint, with its path', () => {
    const { warnings } = load('notifications:\n  endpoints:\n    - name: a\n      url: http://h/\n      retries: 3\n');
    assert.deepEqual(warnings, ['notifications.endpoints.0.retries: unknown key, ignored']);
  });

  it('stops on a bad endpoint, naming each key and why', () => {
    const err = loadError(`notifications:
  endpoints:
    - name: a
      url: ftp://h/
      timeout: 500
      backoff: 7d
      ignore:
        actions: [pull, pet]
    - url: http://h/
`);
    const problems = err.problems.map((p) => `${p.path}: ${p.reason}`);
    const expect = (path: string, pattern: RegExp) =>
      assert.ok(problems.some((p) => p.startsWith(`${path}: `) && pattern.test(p)), `${path} ${pattern} in\n${problems.join('\n')}`);
    expect('notifications.endpoints.0.url', /http:\/\/ or https:\/\//);
    expect('notifications.endpoints.0.timeout', /missing unit after "500"/);
    expect('notifications.endpoints.0.backoff', /no day unit/);
    expect('notifications.endpoints.0.ignore.actions.1', /push|pull|delete|mount/);
    expect('notifications.endpoints.1.name', /expected a string, got nothing/);
    assert.equal(problems.length, 5);
  });

  it('refuses two endpoints of the same name (deliveries are queued by name)', () => {
    const err = loadError('notifications:\n  endpoints:\n    - { name: a, url: "http://h/1" }\n    - { name: a, url: "http://h/2" }\n');
    assert.deepEqual(
      err.problems.map((p) => `${p.path}: ${p.reason}`),
      ['notifications.endpoints.1.name: duplicate endpoint name "a"'],
    );
  });
});
