/**
 * Prepares a raw configuration tree for validation by walking it alongside the schema's shape:
 *
 * - keys berth ignores (ignored.ts) and unknown keys are dropped, each with a warning naming it;
 *   a storage driver berth lacks (s3, ...) is an error;
 * - `_env:VAR` and `_env:VAR:DEFAULT` strings are replaced by the variable (file values only);
 * - YAML's readings are adjusted to the key's type as Go's YAML decoder would: a number in a
 *   string key keeps its text (`version: 0.1` is "0.1"), a plain yes/no/on/off in a boolean key
 *   is a boolean, a single value where a list is expected becomes a list of one;
 * - an empty value means "not set", so the default applies; an empty section (`inmemory:`) is
 *   present with its defaults.
 *
 * Type errors are left for zod to report, so every problem is listed in the same form.
 */
import { coerceText } from './coerce.ts';
import type { ConfigProblem } from './errors.ts';
import { IGNORED_KEYS, UNSUPPORTED_DRIVERS, ignoredWarnings } from './ignored.ts';
import { STORAGE_DRIVERS } from './schema.ts';
import type { Shape } from './shape.ts';
import { isRecord, type RawTree } from './tree.ts';
import type { KeyPath, ScalarText } from './yaml-source.ts';

export interface NormalizeContext {
  warnings: string[];
  problems: ConfigProblem[];
  /** The scalar as written in the file at `path` (file values only). */
  scalarAt?: (path: KeyPath) => ScalarText | undefined;
  /** Environment for `_env:` references; when absent, `_env:` strings are left as they are. */
  env?: NodeJS.ProcessEnv;
  /** Where the value came from when not the file (an environment variable, "overrides"). */
  source?: string;
  /** Filled with dotted key path -> VAR for each `_env:VAR` substituted. */
  substituted?: Map<string, string>;
}

const ENV_REF = /^_env:([A-Za-z_][A-Za-z0-9_]*)(?::([\s\S]*))?$/;

/** Returns the normalised value, or undefined when the key should be treated as unset. */
export function normalize(value: unknown, shape: Shape, path: KeyPath, ctx: NormalizeContext): unknown {
  // An empty section (`inmemory:`, `log:`) is present with its defaults; an empty value is unset.
  if (value === null) return shape.kind === 'object' ? {} : undefined;
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.startsWith('_env:') && ctx.env !== undefined) {
    return substitute(value, shape, path, ctx.env, ctx);
  }
  switch (shape.kind) {
    case 'object':
      return normalizeObject(value, shape.fields, path, ctx);
    case 'record': {
      if (!isRecord(value)) return value; // zod reports the type
      const out: RawTree = {};
      for (const [key, child] of Object.entries(value)) {
        if (key === '__proto__') {
          ctx.warnings.push(withSource(`${[...path, key].join('.')}: reserved name, ignored`, ctx));
          continue;
        }
        const normalized = normalize(child, shape.value, [...path, key], ctx);
        out[key] = normalized === undefined ? child : normalized;
      }
      return out;
    }
    case 'array': {
      if (isRecord(value)) return value; // zod reports the type
      const items = Array.isArray(value) ? value : [value];
      return items.map((item: unknown, index) => {
        const normalized = normalize(item, shape.element, Array.isArray(value) ? [...path, index] : path, ctx);
        return normalized === undefined ? item : normalized;
      });
    }
    case 'string':
      if (typeof value === 'number' || typeof value === 'boolean') return ctx.scalarAt?.(path)?.source ?? String(value);
      return value;
    case 'boolean':
    case 'number': {
      if (typeof value !== 'string' || ctx.scalarAt?.(path)?.plain !== true) return value;
      const coerced = coerceText(value, shape);
      return coerced.ok ? coerced.value : value;
    }
    case 'unknown':
      return value;
  }
}

function normalizeObject(value: unknown, fields: ReadonlyMap<string, Shape>, path: KeyPath, ctx: NormalizeContext): unknown {
  const dotted = path.join('.');
  // distribution accepts `storage: inmemory` for a driver without parameters.
  if (dotted === 'storage' && typeof value === 'string') {
    if (!(STORAGE_DRIVERS as readonly string[]).includes(value)) {
      report(ctx, dotted, unsupportedDriver(value));
      return undefined;
    }
    value = { [value]: {} };
  }
  if (!isRecord(value)) return value; // zod reports the type
  const out: RawTree = {};
  for (const [key, child] of Object.entries(value)) {
    const childPath = [...path, key];
    const childDotted = childPath.join('.');
    const field = fields.get(key);
    const ignored = IGNORED_KEYS.get(childDotted);
    if (field !== undefined) {
      const normalized = normalize(child, field, childPath, ctx);
      if (normalized !== undefined) out[key] = normalized;
    } else if (ignored !== undefined) {
      ctx.warnings.push(...ignoredWarnings(childDotted, child, ignored).map((w) => withSource(w, ctx)));
    } else if (dotted === 'storage' && UNSUPPORTED_DRIVERS.has(key)) {
      report(ctx, childDotted, unsupportedDriver(key));
    } else {
      const twin = [...fields.keys()].find((known) => known.toLowerCase() === key.toLowerCase());
      const hint = twin !== undefined ? ` (did you mean "${twin}"? keys are case-sensitive)` : '';
      ctx.warnings.push(withSource(`${childDotted}: unknown key, ignored${hint}`, ctx));
    }
  }
  return out;
}

export function unsupportedDriver(name: string): string {
  return `storage driver "${name}" is not supported by berth (supported: ${STORAGE_DRIVERS.join(', ')})`;
}

function substitute(ref: string, shape: Shape, path: KeyPath, env: NodeJS.ProcessEnv, ctx: NormalizeContext): unknown {
  const dotted = path.join('.');
  const match = ENV_REF.exec(ref);
  if (match === null) {
    report(ctx, dotted, `malformed reference ${JSON.stringify(ref)}: expected _env:VAR or _env:VAR:DEFAULT`);
    return undefined;
  }
  const [, name = '', fallback] = match;
  const text = env[name] ?? fallback;
  if (text === undefined) {
    report(ctx, dotted, `environment variable ${name} is not set and ${JSON.stringify(ref)} has no default`);
    return undefined;
  }
  const coerced = coerceText(text, shape);
  if (!coerced.ok) {
    report(ctx, dotted, coerced.reason, env[name] !== undefined ? name : ctx.source);
    return undefined;
  }
  const source = env[name] !== undefined ? name : ctx.source;
  if (source !== undefined) ctx.substituted?.set(dotted, source);
  // The substituted value is data, not more YAML: no further `_env:` expansion inside it.
  return normalize(coerced.value, shape, path, { ...ctx, env: undefined, scalarAt: undefined, source });
}

function report(ctx: NormalizeContext, path: string, reason: string, source = ctx.source): void {
  ctx.problems.push(source !== undefined ? { path, reason, source } : { path, reason });
}

function withSource(warning: string, ctx: NormalizeContext): string {
  return ctx.source !== undefined ? `${warning} (from ${ctx.source})` : warning;
}
