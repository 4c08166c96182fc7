/**
 * Invariants between the schema, the ignored-key table and the environment scheme: REGISTRY_*
 * names split on "_", so no key may contain one, and every ignored key must be reachable.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IGNORED_KEYS } from './ignored.ts';
import { configSchema, type Config } from './schema.ts';
import { shapeOf, type Shape } from './shape.ts';

function keyPaths(shape: Shape, prefix: string[] = []): string[][] {
  if (shape.kind !== 'object') return [];
  return [...shape.fields].flatMap(([key, field]) => [[...prefix, key], ...keyPaths(field, [...prefix, key])]);
}

function lookup(shape: Shape, path: readonly string[]): Shape | undefined {
  let node: Shape | undefined = shape;
  for (const key of path) node = node?.kind === 'object' ? node.fields.get(key) : undefined;
  return node;
}

describe('configuration schema', () => {
  const root = shapeOf(configSchema);

  it('has only lowercase keys without underscores, as REGISTRY_* names require', () => {
    const paths = keyPaths(root);
    assert.ok(paths.length > 30, `found ${paths.length} keys`);
    for (const path of paths) assert.match(path.at(-1) ?? '', /^[a-z0-9]+$/, path.join('.'));
  });

  it('exposes the types REGISTRY_* values are coerced to', () => {
    assert.equal(lookup(root, ['storage', 'delete', 'enabled'])?.kind, 'boolean');
    assert.equal(lookup(root, ['catalog', 'maxentries'])?.kind, 'number');
    assert.equal(lookup(root, ['storage', 'maintenance', 'uploadpurging', 'age'])?.kind, 'string');
    assert.equal(lookup(root, ['log', 'level'])?.kind, 'string');
    assert.equal(lookup(root, ['http', 'headers'])?.kind, 'record');
    assert.equal(lookup(root, ['http', 'tls', 'clientcas'])?.kind, 'array');
    assert.equal(lookup(root, ['storage', 'inmemory'])?.kind, 'object');
  });

  it('ignores no key it implements, and can reach every ignored key', () => {
    for (const dotted of IGNORED_KEYS.keys()) {
      const path = dotted.split('.');
      assert.equal(lookup(root, path), undefined, `${dotted} is both implemented and ignored`);
      assert.equal(lookup(root, path.slice(0, -1))?.kind, 'object', `the parent of ${dotted} is not a section`);
    }
  });

  it('types the storage driver as a tagged union', () => {
    const storage: Config['storage'] = configSchema.parse({ storage: { inmemory: {} } }).storage;
    const root = storage.driver === 'filesystem' ? storage.filesystem.rootdirectory : undefined;
    assert.equal(root, undefined);
    assert.deepEqual(storage.driver === 'inmemory' && storage.inmemory, {});
  });
});
