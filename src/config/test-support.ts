/** Shared by the config tests: config files in a temp dir, and catching the ConfigError a load throws. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { ConfigError } from './load.ts';

/** A writer of numbered config files in a temp dir removed after the test file. */
export function configFiles(prefix: string): (yaml: string) => string {
  const dir = mkdtempSync(join(tmpdir(), `berth-${prefix}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let files = 0;
  return (yaml) => {
    const file = join(dir, `config-${++files}.yml`);
    writeFileSync(file, yaml);
    return file;
  };
}

/** The ConfigError that `load` throws; fails the test if it throws something else or nothing. */
export function expectConfigError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected loadConfig to throw');
}

/** distribution's cmd/registry/config-example.yml, as shipped in the registry:2 image. */
export const DISTRIBUTION_SAMPLE = `version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
`;
