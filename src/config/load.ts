/**
 * loadConfig: the configuration as berth starts with it. Layers, lowest first:
 *
 *   schema defaults < config file (with `_env:VAR[:DEFAULT]` substituted) < REGISTRY_* variables
 *   < `overrides` (command-line flags)
 *
 * Anything wrong stops start-up with one ConfigError listing every problem, each with its key
 * path and where the value came from. Keys berth ignores and variables naming no key are
 * returned as warnings for the caller to log; they never fail.
 */
import { readFileSync } from 'node:fs';
import { CONFIG_PATH_VARIABLE, applyEnvOverrides } from './env.ts';
import { ConfigError, type ConfigProblem } from './errors.ts';
import { issueReason } from './issues.ts';
import { normalize } from './normalize.ts';
import { configSchema, STORAGE_DRIVERS, type Config, type ConfigInput } from './schema.ts';
import { shapeOf } from './shape.ts';
import { isRecord, isWithin, mergeInto, selectDriver, type RawTree } from './tree.ts';
import { YamlSource } from './yaml-source.ts';

export { parseAddr, type ListenAddr } from './addr.ts';
export { parseDuration } from './duration.ts';
export { ConfigError, type ConfigProblem } from './errors.ts';
export type { Config, ConfigInput } from './schema.ts';

export interface LoadOptions {
  /** YAML config file. Default: $REGISTRY_CONFIGURATION_PATH; neither: defaults and environment only. */
  file?: string;
  /** Environment for REGISTRY_* overrides and `_env:` references. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Applied last, over file and environment (e.g. command-line flags); same keys as the file. */
  overrides?: ConfigInput;
}

export interface LoadedConfig {
  config: Config;
  /** Ignored keys and variables, one line each; log them at start-up. */
  warnings: string[];
}

const rootShape = shapeOf(configSchema);

/** Loads, merges and validates the configuration; throws ConfigError listing every problem. */
export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const file = opts.file ?? (env[CONFIG_PATH_VARIABLE] || undefined);
  const warnings: string[] = [];
  const problems: ConfigProblem[] = [];

  // 1. The file, `_env:` references substituted, ignored and unknown keys dropped.
  const yaml = file !== undefined ? readYaml(file) : undefined;
  const substituted = new Map<string, string>();
  let tree: RawTree = {};
  const fileProblems: ConfigProblem[] = [];
  if (yaml !== undefined) {
    warnings.push(...yaml.warnings);
    if (yaml.value !== null && !isRecord(yaml.value)) {
      throw new ConfigError([{ path: '', reason: 'expected a mapping of configuration keys at the top level' }], file);
    }
    const ctx = { warnings, problems: fileProblems, env, substituted, scalarAt: yaml.scalarAt.bind(yaml) };
    const normalized = normalize(yaml.value ?? {}, rootShape, [], ctx);
    if (isRecord(normalized)) tree = normalized;
  }

  // 2. REGISTRY_* variables. A file problem under a key they replace no longer matters.
  const fromEnv = applyEnvOverrides(tree, env, rootShape);
  warnings.push(...fromEnv.warnings);
  for (const problem of fileProblems) {
    if (!fromEnv.overridden.some((path) => isWithin(problem.path, path))) problems.push(locate(problem, yaml));
  }
  problems.push(...fromEnv.problems);

  // 3. Programmatic overrides.
  let overrides: RawTree | undefined;
  if (opts.overrides !== undefined) {
    const normalized = normalize(opts.overrides, rootShape, [], { warnings, problems, source: 'overrides' });
    if (isRecord(normalized)) {
      overrides = normalized;
      const storage = overrides['storage'];
      const driver = STORAGE_DRIVERS.find((name) => isRecord(storage) && storage[name] !== undefined);
      if (driver !== undefined) selectDriver(tree, driver);
      mergeInto(tree, overrides);
    }
  }

  // 4. Validation, defaults.
  const parsed = configSchema.safeParse(tree, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map(String).join('.');
      const reason = issueReason(issue);
      const variable = originOf(path, fromEnv.origins);
      if (overrides !== undefined && hasPath(overrides, issue.path)) problems.push({ path, reason, source: 'overrides' });
      else if (variable !== undefined) problems.push({ path, reason, source: variable });
      else problems.push(locate(withSource({ path, reason }, originOf(path, substituted)), yaml));
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems, file);
  return { config: parsed.data, warnings };
}

function withSource(problem: ConfigProblem, source: string | undefined): ConfigProblem {
  return source !== undefined ? { ...problem, source } : problem;
}

function readYaml(file: string): YamlSource {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ path: '', reason: `cannot read config file: ${(err as Error).message}` }], file);
  }
  return new YamlSource(file, text);
}

/** Adds the line a key was written on, when it was written in the file. */
function locate(problem: ConfigProblem, yaml: YamlSource | undefined): ConfigProblem {
  const position = yaml?.positionOf(problem.path === '' ? [] : problem.path.split('.'));
  return position !== undefined ? { ...problem, line: position.line, column: position.column } : problem;
}

/** The variable that set `path` or one of its ancestors (record keys compare case-insensitively). */
function originOf(path: string, origins: ReadonlyMap<string, string>): string | undefined {
  let best: [string, string] | undefined;
  for (const [key, variable] of origins) {
    if (isWithin(path.toLowerCase(), key.toLowerCase()) && (best === undefined || key.length > best[0].length)) {
      best = [key, variable];
    }
  }
  return best?.[1];
}

function hasPath(tree: RawTree, path: readonly PropertyKey[]): boolean {
  let node: unknown = tree;
  for (const segment of path) {
    if (!isRecord(node) || !(String(segment) in node)) return false;
    node = node[String(segment)];
  }
  return true;
}
