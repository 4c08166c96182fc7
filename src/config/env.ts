/**
 * REGISTRY_* environment overrides, as distribution applies them: the name after the prefix is
 * split on "_" and each part names a key, matched case-insensitively against the schema
 * (REGISTRY_HTTP_ADDR -> http.addr). Keys contain no underscore, except free-form record keys
 * such as header names: there the rest of the name is the key (REGISTRY_HTTP_HEADERS_X-FOO ->
 * http.headers["x-foo"]). Values are decoded to the key's type (see coerce.ts).
 *
 * Variables are applied in lexical order (REGISTRY_STORAGE before REGISTRY_STORAGE_...).
 * Naming a storage driver replaces the driver from the file, as in distribution. A variable that
 * names no key (REGISTRY_AUTH_FILE, which podman and skopeo users often have set) is a warning.
 *
 * Just below them come the docker-registry image's storage variables (AWS_BUCKET, AWS_KEY, ...)
 * and the built-in profiles s3 and local (legacy-storage.ts).
 */
import { coerceText } from './coerce.ts';
import type { ConfigProblem } from './errors.ts';
import { IGNORED_KEYS, UNSUPPORTED_DRIVERS } from './ignored.ts';
import { applyLegacyStorage, checkLegacyStorage, type BuiltInProfile } from './legacy-storage.ts';
import { normalize, unsupportedDriver } from './normalize.ts';
import { STORAGE_DRIVERS } from './schema.ts';
import { isLeaf, type Shape } from './shape.ts';
import { selectDriver, setIn, type RawTree } from './tree.ts';

export const ENV_PREFIX = 'REGISTRY_';
/** Names the config file in distribution's image; not a configuration key. */
export const CONFIG_PATH_VARIABLE = 'REGISTRY_CONFIGURATION_PATH';
/** Names the profile of the file's `profiles:` map to apply (as --profile); not a configuration key. */
export const PROFILE_VARIABLE = 'REGISTRY_PROFILE';
/** The config file in the docker-registry (v1) image's tutorials: used when neither --config nor REGISTRY_CONFIGURATION_PATH is. */
export const LEGACY_CONFIG_PATH_VARIABLE = 'DOCKER_REGISTRY_CONFIG';
/** The config template ("flavor") in the docker-registry (v1) image's tutorials: an alias of REGISTRY_PROFILE, which beats it. */
export const LEGACY_PROFILE_VARIABLE = 'SETTINGS_FLAVOR';
/** REGISTRY_* variables that select what to load rather than set a key. */
const LOADER_VARIABLES: ReadonlySet<string> = new Set([CONFIG_PATH_VARIABLE, PROFILE_VARIABLE]);

export interface EnvOverrideResult {
  warnings: string[];
  problems: ConfigProblem[];
  /** Dotted key path -> the variable that set it. */
  origins: Map<string, string>;
  /** Dotted key paths whose file value was replaced or removed (file problems there are moot). */
  overridden: string[];
}

type Resolution =
  | { kind: 'key'; path: string[]; shape: Shape; recordKeys: Set<number> }
  | { kind: 'ignored'; path: string[]; reason: string }
  | { kind: 'unsupported-driver'; driver: string }
  | { kind: 'unknown'; path: string[] };

/**
 * Applies the docker-registry image's storage variables and `builtIn` (the built-in profile
 * selected, when the file defines no profile of its name), then every REGISTRY_* variable of
 * `env`, to `tree` (mutated).
 */
export function applyEnvOverrides(tree: RawTree, env: NodeJS.ProcessEnv, root: Shape, builtIn?: BuiltInProfile): EnvOverrideResult {
  const legacy = applyLegacyStorage(tree, env, builtIn);
  const result: EnvOverrideResult = { warnings: legacy.warnings, problems: legacy.problems, origins: legacy.origins, overridden: legacy.overridden };
  let driverChoice: { driver: string; variable: string } | undefined;
  const names = Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && !LOADER_VARIABLES.has(name))
    .sort();

  for (const variable of names) {
    const text = env[variable] ?? '';
    const problem = (path: string, reason: string) => result.problems.push({ path, reason, source: variable });
    const record = (at: string[], value: unknown, keys: ReadonlySet<number>): void => {
      setIn(tree, at, value, keys);
      result.origins.set(at.join('.'), variable);
      result.overridden.push(at.join('.'));
    };
    const resolved = resolve(variable.slice(ENV_PREFIX.length).split('_'), root);
    if (resolved.kind === 'unknown') {
      const named = resolved.path.includes('') ? '' : ` (${resolved.path.join('.')})`;
      result.warnings.push(`${variable}: names no configuration key${named}, ignored`);
      continue;
    }
    if (resolved.kind === 'ignored') {
      result.warnings.push(`${variable}: ${resolved.path.join('.')} is ${resolved.reason}`);
      continue;
    }
    if (resolved.kind === 'unsupported-driver') {
      problem(`storage.${resolved.driver}`, unsupportedDriver(resolved.driver));
      continue;
    }
    const { path, shape, recordKeys } = resolved;
    const dotted = path.join('.');

    const driver = driverNamed(path, text);
    if (driver !== undefined) {
      if (!isStorageDriver(driver)) {
        problem('storage', unsupportedDriver(driver));
        continue;
      }
      if (driverChoice !== undefined && driverChoice.driver !== driver) {
        problem('storage', `${variable} selects storage driver "${driver}" but ${driverChoice.variable} selects "${driverChoice.driver}"`);
        continue;
      }
      driverChoice = { driver, variable };
      result.overridden.push(...selectDriver(tree, driver));
      // REGISTRY_STORAGE=inmemory, REGISTRY_STORAGE_INMEMORY= (or =true): the driver with its defaults
      // (or, when AWS_BUCKET already chose that driver, with what it set).
      if (path.length === 1 || (path.length === 2 && /^(true)?$/i.test(text.trim()))) {
        if (legacy.driver?.driver !== driver) record(['storage', driver], {}, new Set());
        continue;
      }
    }

    const coerced = coerceText(text, shape);
    if (!coerced.ok) {
      problem(dotted, coerced.reason);
      continue;
    }
    const ctx = { warnings: result.warnings, problems: result.problems, source: variable };
    const value = isLeaf(shape) ? coerced.value : normalize(coerced.value, shape, path, ctx);
    record(path, value ?? {}, recordKeys);
  }
  result.problems.push(...checkLegacyStorage(tree, legacy, driverChoice, builtIn));
  return result;
}

/** The storage driver a variable selects, if any: REGISTRY_STORAGE=<name> or REGISTRY_STORAGE_<DRIVER>_... */
function driverNamed(path: readonly string[], text: string): string | undefined {
  if (path[0] !== 'storage') return undefined;
  if (path.length === 1) return /^[A-Za-z0-9-]+$/.test(text.trim()) ? text.trim().toLowerCase() : undefined;
  const section = path[1] ?? '';
  return isStorageDriver(section) ? section : undefined;
}

/** Walks the schema's shape along the parts of a variable name. */
function resolve(parts: string[], root: Shape): Resolution {
  const path: string[] = [];
  const recordKeys = new Set<number>();
  let shape = root;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    if (part === '') return { kind: 'unknown', path: [...path, part] };
    if (shape.kind === 'object') {
      const key = part.toLowerCase();
      const field = shape.fields.get(key);
      path.push(key);
      if (field === undefined) {
        const reason = IGNORED_KEYS.get(path.join('.'));
        if (reason !== undefined) return { kind: 'ignored', path: [...path, ...parts.slice(i + 1).map((p) => p.toLowerCase())], reason };
        if (path.length === 2 && path[0] === 'storage' && UNSUPPORTED_DRIVERS.has(key)) return { kind: 'unsupported-driver', driver: key };
        return { kind: 'unknown', path: [...path, ...parts.slice(i + 1).map((p) => p.toLowerCase())] };
      }
      shape = field;
    } else if (shape.kind === 'record') {
      recordKeys.add(path.length);
      if (isLeaf(shape.value) || shape.value.kind === 'array') {
        // A record of plain values takes the rest of the name as its key (header names may hold "_").
        return { kind: 'key', path: [...path, parts.slice(i).join('_')], shape: shape.value, recordKeys };
      }
      path.push(part);
      shape = shape.value;
    } else {
      return { kind: 'unknown', path: [...path, ...parts.slice(i).map((p) => p.toLowerCase())] };
    }
  }
  return { kind: 'key', path, shape, recordKeys };
}

function isStorageDriver(name: string): boolean {
  return (STORAGE_DRIVERS as readonly string[]).includes(name);
}
