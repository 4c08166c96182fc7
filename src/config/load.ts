/**
 * loadConfig: the configuration as berth starts with it. Layers, lowest first:
 *
 *   schema defaults < config file (common settings) < the selected profile of the file's
 *   `profiles:` map < REGISTRY_* variables < `overrides` (command-line flags)
 *
 * `_env:VAR[:DEFAULT]` references are part of the file: each resolves where it is written (in the
 * common settings or in the profile), so a profile's plain value replaces a common `_env:` one.
 *
 * Anything wrong stops start-up with one ConfigError listing every problem, each with its key
 * path and where the value came from. A problem under a key that a higher layer replaces no
 * longer matters and is dropped. Keys berth ignores and variables naming no key are returned as
 * warnings for the caller to log; they never fail.
 */
import { readFileSync } from 'node:fs';
import { CONFIG_PATH_VARIABLE, LEGACY_CONFIG_PATH_VARIABLE, applyEnvOverrides } from './env.ts';
import { chooseSetting } from './aliases.ts';
import { ConfigError, type ConfigProblem } from './errors.ts';
import { issueReason } from './issues.ts';
import { builtInProfile } from './legacy-storage.ts';
import { normalize } from './normalize.ts';
import { noSuchProfile, readFileLayers, selectProfile, type FileLayer, type FileLayers } from './profiles.ts';
import { configSchema, type Config, type ConfigInput } from './schema.ts';
import { shapeOf } from './shape.ts';
import { isRecord, isWithin, overlay, type RawTree } from './tree.ts';
import { YamlSource } from './yaml-source.ts';

export { parseAddr, type ListenAddr } from './addr.ts';
export { parseDuration } from './duration.ts';
export { ConfigError, type ConfigProblem } from './errors.ts';
export type { Config, ConfigInput } from './schema.ts';

export interface LoadOptions {
  /** YAML config file. Default: $REGISTRY_CONFIGURATION_PATH, else $DOCKER_REGISTRY_CONFIG; none: defaults and environment only. */
  file?: string;
  /** Profile of the file's `profiles:` map to merge over its common settings. Default: $REGISTRY_PROFILE, else $SETTINGS_FLAVOR. */
  profile?: string;
  /** Environment for REGISTRY_* overrides and `_env:` references. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Applied last, over file and environment (e.g. command-line flags); same keys as the file. */
  overrides?: ConfigInput;
}

export interface LoadedConfig {
  config: Config;
  /** The config file read, if any. */
  file?: string;
  /** The profile applied, if any. */
  profile?: string;
  /** Ignored keys and variables, one line each; log them at start-up. */
  warnings: string[];
}

/** What one layer found wrong, and the key paths that the layers above it replaced. */
interface LayerProblems {
  problems: ConfigProblem[];
  replaced: string[];
}

const rootShape = shapeOf(configSchema);

/** Loads, merges and validates the configuration; throws ConfigError listing every problem. */
export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const warnings: string[] = [];
  const fileChoice = selectConfigFile(opts.file, env, warnings);
  const file = fileChoice?.file;
  const selection = selectProfile(opts.profile, env, warnings);
  const layers: LayerProblems[] = [];
  const replacedAbove = (paths: readonly string[]) => layers.forEach((layer) => layer.replaced.push(...paths));

  // 1. The file: common settings, then the selected profile over them.
  const yaml = fileChoice !== undefined ? readYaml(fileChoice) : undefined;
  let fileLayers: FileLayers | undefined;
  let tree: RawTree = {};
  if (yaml !== undefined) {
    warnings.push(...yaml.warnings);
    if (yaml.value !== null && !isRecord(yaml.value)) {
      throw new ConfigError([{ path: '', reason: 'expected a mapping of configuration keys at the top level' }], file);
    }
    fileLayers = readFileLayers(yaml.value ?? {}, yaml, selection, env, rootShape, warnings);
    tree = fileLayers.common.tree;
    layers.push({ problems: fileLayers.common.problems, replaced: [] });
    if (fileLayers.profile !== undefined) {
      replacedAbove(overlay(tree, fileLayers.profile.tree));
      layers.push({ problems: fileLayers.profile.problems, replaced: [] });
    }
  } else if (selection !== undefined && builtInProfile(selection.name) === undefined) {
    throw noSuchProfile(selection, []);
  }
  const builtIn = yaml !== undefined ? fileLayers?.builtIn : selection && builtInProfile(selection.name);

  // 2. REGISTRY_* variables (and below them, the docker-registry image's storage variables).
  const fromEnv = applyEnvOverrides(tree, env, rootShape, builtIn);
  warnings.push(...fromEnv.warnings);
  replacedAbove(fromEnv.overridden);
  layers.push({ problems: fromEnv.problems, replaced: [] });

  // 3. Programmatic overrides.
  let overrides: RawTree | undefined;
  if (opts.overrides !== undefined) {
    const problems: ConfigProblem[] = [];
    const normalized = normalize(opts.overrides, rootShape, [], { warnings, problems, source: 'overrides' });
    if (isRecord(normalized)) {
      overrides = normalized;
      replacedAbove(overlay(tree, overrides));
    }
    layers.push({ problems, replaced: [] });
  }
  const problems = layers.flatMap(({ problems, replaced }) =>
    problems.filter((problem) => !replaced.some((path) => isWithin(problem.path, path))),
  );

  // 4. Validation, defaults.
  const parsed = configSchema.safeParse(tree, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map(String).join('.');
      const reason = issueReason(issue);
      const variable = originOf(path, fromEnv.origins);
      if (overrides !== undefined && hasPath(overrides, issue.path)) problems.push({ path, reason, source: 'overrides' });
      else if (variable !== undefined) problems.push({ path, reason, source: variable });
      else if (fileLayers !== undefined) problems.push(fromFile({ path, reason }, issue.path, fileLayers));
      else problems.push({ path, reason });
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems, file);
  return {
    config: parsed.data,
    ...(file !== undefined ? { file } : {}),
    ...(selection !== undefined ? { profile: selection.name } : {}),
    warnings,
  };
}

/** Locates a validation problem in the profile that set the key, else in the common settings. */
function fromFile(problem: ConfigProblem, path: readonly PropertyKey[], layers: FileLayers): ConfigProblem {
  const layer: FileLayer =
    layers.profile !== undefined && hasPath(layers.profile.tree, path) ? layers.profile : layers.common;
  const source = originOf(problem.path, layer.substituted) ?? layer.label;
  return layer.locate(withSource(problem, source));
}

function withSource(problem: ConfigProblem, source: string | undefined): ConfigProblem {
  return source !== undefined ? { ...problem, source } : problem;
}

/** The config file asked for, and who asked (a variable, or undefined for the file option). */
export interface ConfigFileChoice {
  file: string;
  source?: string;
}

/** The config file to read: --config, else REGISTRY_CONFIGURATION_PATH, else DOCKER_REGISTRY_CONFIG (aliases.ts), else none. */
export function selectConfigFile(option: string | undefined, env: NodeJS.ProcessEnv, warnings: string[]): ConfigFileChoice | undefined {
  const chosen = chooseSetting(
    {
      option,
      own: CONFIG_PATH_VARIABLE,
      legacy: LEGACY_CONFIG_PATH_VARIABLE,
      selects: (v, byLegacy) => (byLegacy ? 'selects the config file' : `selects the config file ${v}`),
      ownWay: `berth's own way is --config FILE or ${CONFIG_PATH_VARIABLE}`,
      optionName: '--config',
    },
    env,
    warnings,
  );
  return chosen === undefined ? undefined : { file: chosen.value, ...(chosen.source !== undefined && { source: chosen.source }) };
}

function readYaml({ file, source }: ConfigFileChoice): YamlSource {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const what = source !== undefined ? `config file named by ${source}` : 'config file';
    const problem: ConfigProblem = { path: '', reason: `cannot read ${what}: ${(err as Error).message}` };
    if (source !== undefined) problem.source = source;
    throw new ConfigError([problem], file);
  }
  return new YamlSource(file, text);
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
