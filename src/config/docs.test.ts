/**
 * The generated documentation: every schema key described (and nothing else), the example
 * config loading cleanly, and docs/configuration.md matching what the generator produces now.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { configFiles } from './test-support.ts';
import { DOCS_PATH, configurationMarkdown } from './docs-page.ts';
import { KEY_DOCS, PROFILES_EXAMPLE } from './docs.ts';
import { exampleConfigYaml } from './example.ts';
import { IGNORED_KEYS } from './ignored.ts';
import { loadConfig } from './load.ts';
import { configReference, flattenReference } from './reference.ts';
import { STORAGE_DRIVERS } from './schema.ts';

const configFile = configFiles('config-docs');
const refs = flattenReference(configReference());
const REPO_ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

describe('key descriptions (docs.ts)', () => {
  it('describe every key of the schema', () => {
    assert.ok(refs.length > 40, `found ${refs.length} keys`);
    const missing = refs.filter((ref) => (KEY_DOCS[ref.path]?.description ?? '').trim() === '').map((ref) => ref.path);
    assert.deepEqual(missing, [], 'describe these keys in src/config/docs.ts, then run npm run docs:config');
  });

  it('name only keys that exist', () => {
    const paths = new Set(refs.map((ref) => ref.path));
    const unknown = Object.keys(KEY_DOCS).filter((path) => !paths.has(path));
    assert.deepEqual(unknown, [], 'these entries of src/config/docs.ts name no key of the schema');
  });

  it('give an example value to every key without a default, and none to keys with one', () => {
    for (const ref of refs.filter((r) => r.kind === 'value')) {
      const example = KEY_DOCS[ref.path]?.example;
      if (ref.hasDefault) assert.equal(example, undefined, `${ref.path} shows its default; drop the example`);
      else assert.notEqual(example, undefined, `${ref.path} has no default: give it an example in docs.ts`);
    }
  });
});

describe('berth config example', () => {
  it('loads cleanly through loadConfig, with no warnings, giving exactly the defaults', () => {
    const { config, warnings } = loadConfig({ env: {}, file: configFile(exampleConfigYaml()) });
    assert.deepEqual(warnings, []);
    assert.deepEqual(config, loadConfig({ env: {} }).config);
  });

  it('has a comment before every key', () => {
    const lines = exampleConfigYaml().split('\n');
    lines.forEach((line, index) => {
      if (/^[\s#-]*[a-z0-9]+:/.test(line) && !/^\s*# [A-Z]/.test(line)) {
        assert.match(lines[index - 1] ?? '', /#/, `no comment before line ${index + 1}: ${line}`);
      }
    });
  });

  // Everything commented out, uncommented (but one storage driver at a time), must load too.
  for (const driver of STORAGE_DRIVERS) {
    const others = STORAGE_DRIVERS.filter((d) => d !== driver).map((d) => `storage.${d}`);
    const full = exampleConfigYaml({ active: (path) => !others.includes(path) });

    it(`with every optional part uncommented (${driver}), shows every key and loads cleanly with each profile`, () => {
      const tree: unknown = parse(full);
      for (const ref of refs.filter((r) => !others.some((other) => r.path === other || r.path.startsWith(`${other}.`)))) {
        assert.ok(lookup(tree, ref.path.split('.')) !== undefined, `${ref.path} is not in the example`);
      }
      for (const profile of [undefined, ...Object.keys(PROFILES_EXAMPLE)]) {
        const { config, warnings } = loadConfig({ env: {}, file: configFile(full), ...(profile ? { profile } : {}) });
        assert.deepEqual(warnings, [], `profile ${String(profile)}`);
        assert.equal(config.notifications?.endpoints.length, 1);
        if (profile === undefined) assert.equal(config.storage.driver, driver);
      }
    });
  }
});

describe('docs/configuration.md', () => {
  it('is what the generator produces now (run npm run docs:config)', () => {
    let committed = '';
    try {
      committed = readFileSync(join(REPO_ROOT, DOCS_PATH), 'utf8');
    } catch {
      assert.fail(`${DOCS_PATH} is missing: run npm run docs:config`);
    }
    assert.ok(committed === configurationMarkdown(), `${DOCS_PATH} is out of date: run npm run docs:config`);
  });

  it('lists every key with its environment variable, and every ignored key', () => {
    const page = configurationMarkdown();
    for (const ref of refs) {
      const top = !ref.path.includes('.') && ref.kind !== 'value';
      assert.ok(page.includes(top ? `### \`${ref.path}\`` : `| \`${ref.path}\` |`), `${ref.path} has no row`);
      if (ref.env !== undefined) assert.ok(page.includes(`\`${ref.env}\``), `${ref.env} not shown`);
    }
    for (const path of IGNORED_KEYS.keys()) assert.ok(page.includes(`| \`${path}\` |`), `ignored ${path} has no row`);
  });
});

/** The value at `path` in a parsed YAML tree; `name[]` steps into the first item of a list. */
function lookup(tree: unknown, path: readonly string[]): unknown {
  let node = tree;
  for (const segment of path) {
    const list = segment.endsWith('[]');
    const key = list ? segment.slice(0, -2) : segment;
    if (typeof node !== 'object' || node === null || !(key in node)) return undefined;
    node = (node as Record<string, unknown>)[key];
    if (list) node = Array.isArray(node) ? (node[0] as unknown) : undefined;
  }
  return node === null ? {} : node;
}
