/**
 * Small helpers over the raw (not yet validated) configuration tree: plain nested objects as
 * they come out of YAML, before zod turns them into a Config.
 */
import { STORAGE_DRIVERS } from './schema.ts';

export type RawTree = Record<string, unknown>;

export function isRecord(value: unknown): value is RawTree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `path` is `prefix` or lies below it (both dotted). */
export function isWithin(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}.`) || prefix === '';
}

/**
 * Sets `value` at `path`, creating mappings on the way. At the indices in `recordKeys` the
 * segment is a free-form key (e.g. a header name): an existing key that differs only in case is
 * replaced, a new one is stored lowercased, as distribution does.
 */
export function setIn(tree: RawTree, path: readonly string[], value: unknown, recordKeys: ReadonlySet<number> = new Set()): void {
  let node = tree;
  path.forEach((segment, index) => {
    let key = segment;
    if (recordKeys.has(index)) {
      key = Object.keys(node).find((existing) => existing.toLowerCase() === segment.toLowerCase()) ?? segment.toLowerCase();
    }
    if (index === path.length - 1) {
      node[key] = value;
      return;
    }
    const child = node[key];
    if (isRecord(child)) {
      node = child;
    } else {
      const created: RawTree = {};
      node[key] = created;
      node = created;
    }
  });
}

/**
 * Lays `layer` over `tree` (mutated) as a higher-precedence layer: naming a storage driver
 * replaces the tree's driver, then mappings merge key by key. Returns the dotted paths whose
 * lower value was replaced or removed, so problems found there in lower layers can be dropped.
 */
export function overlay(tree: RawTree, layer: RawTree): string[] {
  const storage = layer['storage'];
  const driver = STORAGE_DRIVERS.find((name) => isRecord(storage) && storage[name] !== undefined);
  const replaced = driver !== undefined ? selectDriver(tree, driver) : [];
  return [...replaced, ...mergeTracked(tree, layer, [])];
}

function mergeTracked(target: RawTree, source: RawTree, prefix: readonly string[]): string[] {
  const replaced: string[] = [];
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    const path = [...prefix, key];
    if (isRecord(existing) && isRecord(value)) {
      replaced.push(...mergeTracked(existing, value, path));
    } else {
      target[key] = value;
      replaced.push(path.join('.'));
    }
  }
  return replaced;
}

/**
 * Makes `driver` the storage driver of `tree`: any other driver section is removed (keeping
 * delete, maintenance and the rest). Returns the dotted paths of the sections removed.
 */
export function selectDriver(tree: RawTree, driver: string): string[] {
  const existing = tree['storage'];
  const storage: RawTree = isRecord(existing) ? existing : {};
  tree['storage'] = storage;
  const removed: string[] = [];
  for (const other of STORAGE_DRIVERS) {
    if (other !== driver && other in storage) {
      delete storage[other];
      removed.push(`storage.${other}`);
    }
  }
  if (!isRecord(storage[driver])) storage[driver] = {};
  return removed;
}
