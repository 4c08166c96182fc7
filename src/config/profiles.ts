/**
 * Profiles: a top-level `profiles:` map in the config file, each entry a partial configuration
 * (same keys as the file) merged over the file's common settings when selected with --profile
 * or REGISTRY_PROFILE (or SETTINGS_FLAVOR, its name in the docker-registry image's tutorials):
 *
 *   storage:
 *     filesystem: { rootdirectory: /var/lib/berth }
 *   profiles:
 *     dev:
 *       log: { level: debug }
 *       storage: { inmemory: {} }     # naming a driver replaces the common one
 *
 * This module reads the file into its layers: the common settings and the selected profile, each
 * normalised on its own (so `_env:` references resolve where they are written, and warnings and
 * problems point at the profile's lines). load.ts lays them over each other.
 */
import type { ConfigProblem } from './errors.ts';
import { ConfigError } from './errors.ts';
import { LEGACY_PROFILE_VARIABLE, PROFILE_VARIABLE } from './env.ts';
import { chooseSetting } from './aliases.ts';
import { builtInProfile, type BuiltInProfile } from './legacy-storage.ts';
import { normalize } from './normalize.ts';
import type { Shape } from './shape.ts';
import { isRecord, type RawTree } from './tree.ts';
import type { KeyPath, YamlSource } from './yaml-source.ts';

export const PROFILES_KEY = 'profiles';

/** The profile asked for, and who asked (REGISTRY_PROFILE or SETTINGS_FLAVOR, or undefined for the --profile option). */
export interface ProfileSelection {
  name: string;
  source?: string;
}

/** One layer of the file: its normalised tree and what was found reading it. */
export interface FileLayer {
  tree: RawTree;
  /** Problems, located at their line in the file. */
  problems: ConfigProblem[];
  /** Dotted key path -> the variable (or this layer's label) an `_env:` reference there took its value from. */
  substituted: Map<string, string>;
  /** "profile \"dev\"" for a profile; undefined for the common settings. */
  label: string | undefined;
  /** Adds the file position of `problem.path` within this layer. */
  locate(problem: ConfigProblem): ConfigProblem;
}

export interface FileLayers {
  common: FileLayer;
  profile?: FileLayer;
  /** The built-in profile selected (legacy-storage.ts), when the file defines none of its name. */
  builtIn?: BuiltInProfile;
}

/** The profile to apply: --profile, else REGISTRY_PROFILE, else SETTINGS_FLAVOR (aliases.ts), else none. */
export function selectProfile(option: string | undefined, env: NodeJS.ProcessEnv, warnings: string[]): ProfileSelection | undefined {
  const chosen = chooseSetting(
    { option, own: PROFILE_VARIABLE, legacy: LEGACY_PROFILE_VARIABLE, selects: (v) => `selects profile ${v}`, ownWay: `berth's own variable is ${PROFILE_VARIABLE} (or --profile NAME)`, optionName: '--profile' },
    env,
    warnings,
  );
  return chosen === undefined ? undefined : { name: chosen.value, ...(chosen.source !== undefined && { source: chosen.source }) };
}


/**
 * Splits the file's top-level mapping into common settings and the selected profile and
 * normalises both. Throws ConfigError when `profiles` is malformed or the selection names no
 * profile in it, nor a built-in one.
 */
export function readFileLayers(
  root: RawTree,
  yaml: YamlSource,
  selection: ProfileSelection | undefined,
  env: NodeJS.ProcessEnv,
  shape: Shape,
  warnings: string[],
): FileLayers {
  const { [PROFILES_KEY]: profilesValue, ...commonValue } = root;
  const profiles = profileMap(profilesValue, yaml);
  const common = readLayer(commonValue, [], undefined, yaml, env, shape, warnings);
  if (selection === undefined) return { common };

  const value = profiles.get(selection.name);
  if (value === undefined) {
    const builtIn = builtInProfile(selection.name);
    if (builtIn !== undefined) return { common, builtIn };
    throw noSuchProfile(selection, [...profiles.keys()], yaml);
  }
  const path = [PROFILES_KEY, selection.name];
  const { [PROFILES_KEY]: nested, ...settings } = value;
  if (nested !== undefined) warnings.push(`${path.join('.')}.${PROFILES_KEY}: profiles cannot be nested, ignored`);
  const profile = readLayer(settings, path, `profile ${JSON.stringify(selection.name)}`, yaml, env, shape, warnings);
  return { common, profile };
}

/** The error for a profile that is not defined; `defined` lists the ones that are. */
export function noSuchProfile(selection: ProfileSelection, defined: readonly string[], yaml?: YamlSource): ConfigError {
  const known =
    yaml === undefined
      ? 'no config file was given'
      : defined.length === 0
        ? `${yaml.file} defines no profiles`
        : `defined: ${defined.join(', ')}`;
  const problem: ConfigProblem = { path: PROFILES_KEY, reason: `no profile named ${JSON.stringify(selection.name)} (${known})` };
  if (selection.source !== undefined) problem.source = selection.source;
  const position = yaml?.positionOf([PROFILES_KEY]);
  if (position !== undefined) Object.assign(problem, position);
  return new ConfigError([problem], yaml?.file);
}

/** The `profiles` mapping, each profile a mapping (an empty one is an empty profile). */
function profileMap(value: unknown, yaml: YamlSource): Map<string, RawTree> {
  const profiles = new Map<string, RawTree>();
  if (value === undefined || value === null) return profiles;
  const problems: ConfigProblem[] = [];
  const problem = (path: KeyPath, reason: string): void => {
    problems.push({ path: path.join('.'), reason, ...yaml.positionOf(path) });
  };
  if (!isRecord(value)) {
    problem([PROFILES_KEY], 'expected a mapping of profile names to partial configurations');
  } else {
    for (const [name, profile] of Object.entries(value)) {
      if (profile === null) profiles.set(name, {});
      else if (isRecord(profile)) profiles.set(name, profile);
      else problem([PROFILES_KEY, name], 'expected a mapping of configuration keys (a partial configuration)');
    }
  }
  if (problems.length > 0) throw new ConfigError(problems, yaml.file);
  return profiles;
}

function readLayer(
  value: RawTree,
  at: readonly string[],
  label: string | undefined,
  yaml: YamlSource,
  env: NodeJS.ProcessEnv,
  shape: Shape,
  warnings: string[],
): FileLayer {
  const problems: ConfigProblem[] = [];
  const substituted = new Map<string, string>();
  const scalarAt = (path: KeyPath) => yaml.scalarAt([...at, ...path]);
  const ctx = { warnings, problems, env, substituted, scalarAt, ...(label !== undefined ? { source: label } : {}) };
  const normalized = normalize(value, shape, [], ctx);
  const locate = (problem: ConfigProblem): ConfigProblem => {
    const position = yaml.positionOf(problem.path === '' ? at : [...at, ...problem.path.split('.')]);
    return position !== undefined ? { ...problem, line: position.line, column: position.column } : problem;
  };
  return { tree: isRecord(normalized) ? normalized : {}, problems: problems.map(locate), substituted, label, locate };
}
