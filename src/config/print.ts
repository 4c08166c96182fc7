/**
 * The effective configuration as YAML, for `berth config check`: in the file's own form (keys
 * as written in a file, durations as "168h", no derived fields such as `storage.driver`), so
 * the output can be compared with, or used as, a config file. Secrets (secrets.ts) are masked.
 */
import { stringify } from 'yaml';
import { formatDuration } from './duration.ts';
import { configReference, type KeyRef } from './reference.ts';
import type { Config } from './schema.ts';
import { MASK, SECRET_KEYS } from './secrets.ts';
import { isRecord, type RawTree } from './tree.ts';

/** `config` as a YAML document with secrets masked. */
export function effectiveConfigYaml(config: Config): string {
  return stringify(fileForm(config, configReference()), { lineWidth: 0 });
}

/** The validated config back in the form a file holds, secrets masked; keys the file cannot hold are dropped. */
export function fileForm(config: Config, refs: readonly KeyRef[] = configReference()): RawTree {
  return section(config, refs);
}

function section(value: unknown, refs: readonly KeyRef[]): RawTree {
  const out: RawTree = {};
  if (!isRecord(value)) return out;
  for (const ref of refs) {
    const converted = convert(value[ref.name], ref);
    if (converted !== undefined) out[ref.name] = converted;
  }
  return out;
}

function convert(value: unknown, ref: KeyRef): unknown {
  if (value === undefined) return undefined;
  if (SECRET_KEYS.includes(ref.path)) return mask(value);
  switch (ref.kind) {
    case 'section':
      return section(value, ref.children);
    case 'list':
      return Array.isArray(value) ? value.map((item: unknown) => section(item, ref.children)) : value;
    case 'value':
      return ref.type === 'duration' && typeof value === 'number' ? formatDuration(value) : value;
  }
}

/** Masks every value inside `value`, keeping the keys of mappings and the length of lists. */
function mask(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(mask);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, mask(inner)]));
  return MASK;
}
