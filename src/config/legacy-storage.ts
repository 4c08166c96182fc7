/**
 * Storage as the docker-registry (v1) image's tutorials chose it, read by berth:
 *
 *   docker run -e SETTINGS_FLAVOR=s3 -e AWS_BUCKET=b -e AWS_KEY=k -e AWS_SECRET=s ... registry
 *   docker run -e SETTINGS_FLAVOR=local -e STORAGE_PATH=/registry -v /srv:/registry ... registry
 *
 * - AWS_BUCKET, AWS_KEY, AWS_SECRET, AWS_REGION, STORAGE_PATH are aliases of storage.s3's bucket,
 *   accesskey, secretkey, region and rootdirectory, applied only when AWS_BUCKET is set (then they
 *   select the s3 driver, replacing the file's). They sit just below REGISTRY_* variables: berth's
 *   own REGISTRY_STORAGE_S3_<KEY> wins key by key, and a REGISTRY_* variable naming another
 *   driver is a conflict, an error. Without AWS_BUCKET they name no storage: AWS_KEY, AWS_SECRET
 *   and STORAGE_PATH are ignored with a notice, AWS_REGION silently (platforms set it for the SDK).
 *   With AWS_BUCKET and no region anywhere, the region is us-east-1, S3's default, as boto's was.
 * - The v1 flavors `s3` and `local` are built-in profiles, used when the config file defines no
 *   profile of that name: `local` is the filesystem driver (at STORAGE_PATH when set), `s3` needs
 *   S3 storage from somewhere (AWS_BUCKET, REGISTRY_STORAGE_S3_*, or the file) and fails otherwise.
 *
 * Every variable read adds one line to the warnings; AWS_KEY and AWS_SECRET are named, never shown.
 */
import { nonEmpty } from './aliases.ts';
import type { ConfigProblem } from './errors.ts';
import { isRecord, selectDriver, setIn, type RawTree } from './tree.ts';

export const BUILT_IN_PROFILES = ['s3', 'local'] as const;
export type BuiltInProfile = (typeof BUILT_IN_PROFILES)[number];

/** The built-in profile of that name, for a selection the config file does not define. */
export function builtInProfile(name: string): BuiltInProfile | undefined {
  return BUILT_IN_PROFILES.find((p) => p === name);
}

interface Alias {
  variable: string;
  key: 'bucket' | 'accesskey' | 'secretkey' | 'region' | 'rootdirectory';
  /** Named in notices without its value. */
  hidden?: boolean;
}

const S3_ALIASES: readonly Alias[] = [
  { variable: 'AWS_BUCKET', key: 'bucket' },
  { variable: 'AWS_KEY', key: 'accesskey', hidden: true },
  { variable: 'AWS_SECRET', key: 'secretkey', hidden: true },
  { variable: 'AWS_REGION', key: 'region' },
  { variable: 'STORAGE_PATH', key: 'rootdirectory' },
];

/** S3's default region (and boto's, which the v1 image used), for AWS_BUCKET without a region. */
export const DEFAULT_S3_REGION = 'us-east-1';

export interface LegacyStorage {
  warnings: string[];
  problems: ConfigProblem[];
  /** Dotted key path -> the variable that set it. */
  origins: Map<string, string>;
  /** Dotted key paths of the file whose value was replaced or removed. */
  overridden: string[];
  /** The driver AWS_BUCKET selected, to check against the REGISTRY_* variables. */
  driver?: { driver: 's3'; variable: string };
}

/** Applies the legacy variables and the built-in profile (if selected) to `tree` (mutated). */
export function applyLegacyStorage(tree: RawTree, env: NodeJS.ProcessEnv, builtIn: BuiltInProfile | undefined): LegacyStorage {
  const result: LegacyStorage = { warnings: [], problems: [], origins: new Map(), overridden: [] };
  // Past the prefix, REGISTRY_* names match keys case-insensitively (env.ts): look berth's own variables up that way.
  const registry = new Map(Object.entries(env).flatMap(([name, value]) => (name.startsWith('REGISTRY_') ? [[name.toUpperCase(), nonEmpty(value)]] : [])));
  const ownSet = (name: string): boolean => registry.get(name) !== undefined;
  const shown = (alias: Alias, value: string): string => (alias.hidden === true ? alias.variable : `${alias.variable}=${value}`);
  const present = S3_ALIASES.flatMap((alias) => {
    const value = nonEmpty(env[alias.variable]);
    return value === undefined ? [] : [{ alias, value }];
  });

  if (builtIn === 'local') {
    const path = nonEmpty(env['STORAGE_PATH']);
    result.overridden.push(...selectDriver(tree, 'filesystem'));
    result.warnings.push(`profile local is built in (the config defines none): the docker-registry image's local flavor, storage on the filesystem`);
    const own = ['REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY', 'REGISTRY_STORAGE_FILESYSTEM'].find(ownSet);
    if (path !== undefined && own !== undefined) {
      result.warnings.push(`STORAGE_PATH=${path} ignored: ${own} sets storage.filesystem.rootdirectory`);
    } else if (path !== undefined) {
      setIn(tree, ['storage', 'filesystem', 'rootdirectory'], path);
      result.origins.set('storage.filesystem.rootdirectory', 'STORAGE_PATH');
      result.overridden.push('storage.filesystem.rootdirectory');
      result.warnings.push(`STORAGE_PATH=${path} sets storage.filesystem.rootdirectory; berth's own variable is REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY`);
    }
    for (const { alias, value } of present) {
      if (alias.variable !== 'STORAGE_PATH' && alias.variable !== 'AWS_REGION') result.warnings.push(`${shown(alias, value)} ignored: profile local stores on the filesystem`);
    }
    return result;
  }
  if (builtIn === 's3') {
    result.warnings.push("profile s3 is built in (the config defines none): the docker-registry image's s3 flavor, storage.s3 from AWS_BUCKET, AWS_KEY, AWS_SECRET, AWS_REGION, STORAGE_PATH");
  }

  const bucket = nonEmpty(env['AWS_BUCKET']);
  if (bucket === undefined) {
    for (const { alias, value } of present) {
      if (alias.variable === 'AWS_REGION') continue;
      const own =
        alias.variable === 'STORAGE_PATH'
          ? 'REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY or REGISTRY_STORAGE_S3_ROOTDIRECTORY'
          : ownVariable(alias.key);
      result.warnings.push(`${shown(alias, value)} ignored: it names no storage without AWS_BUCKET; berth's own variable is ${own}`);
    }
    return result;
  }

  const removed = selectDriver(tree, 's3');
  result.overridden.push(...removed);
  result.driver = { driver: 's3', variable: 'AWS_BUCKET' };
  const section = (tree['storage'] as RawTree)['s3'] as RawTree;
  const replacing = removed.length > 0 ? ` (replacing ${removed.join(', ')})` : '';
  for (const { alias, value } of present) {
    const own = ownVariable(alias.key);
    const winner = ownSet(own) ? own : ownSet('REGISTRY_STORAGE_S3') ? 'REGISTRY_STORAGE_S3' : undefined;
    if (winner !== undefined) {
      result.warnings.push(`${shown(alias, value)} ignored: ${winner} sets storage.s3.${alias.key}`);
      continue;
    }
    section[alias.key] = value;
    result.origins.set(`storage.s3.${alias.key}`, alias.variable);
    result.overridden.push(`storage.s3.${alias.key}`);
    const selects = alias.variable === 'AWS_BUCKET' ? `selects storage s3${replacing} and ` : '';
    result.warnings.push(`${shown(alias, value)} ${selects}sets storage.s3.${alias.key}; berth's own variable is ${own}`);
  }
  if (section['region'] === undefined && !ownSet(ownVariable('region')) && !ownSet('REGISTRY_STORAGE_S3')) {
    section['region'] = DEFAULT_S3_REGION;
    result.warnings.push(`AWS_REGION is not set: storage.s3.region is ${DEFAULT_S3_REGION}, S3's default; set AWS_REGION (or REGISTRY_STORAGE_S3_REGION) to the bucket's region if it is elsewhere`);
  }
  if (section['accesskey'] === undefined && !ownSet(ownVariable('accesskey')) && !ownSet('REGISTRY_STORAGE_S3')) {
    result.warnings.push('AWS_KEY and AWS_SECRET are not set: S3 credentials come from the AWS SDK (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ~/.aws, an instance role)');
  }
  return result;
}

/**
 * After every REGISTRY_* variable: AWS_BUCKET against a REGISTRY_* variable naming another driver
 * (an error: which one was meant?), and the built-in profile s3 without S3 storage (an error).
 */
export function checkLegacyStorage(
  tree: RawTree,
  legacy: LegacyStorage,
  envDriver: { driver: string; variable: string } | undefined,
  builtIn: BuiltInProfile | undefined,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (legacy.driver !== undefined && envDriver !== undefined && envDriver.driver !== legacy.driver.driver) {
    problems.push({
      path: 'storage',
      reason: `${legacy.driver.variable} selects storage driver "${legacy.driver.driver}" but ${envDriver.variable} selects "${envDriver.driver}": unset one of them`,
      source: legacy.driver.variable,
    });
  }
  const storage = tree['storage'];
  if (builtIn === 's3' && problems.length === 0 && !(isRecord(storage) && storage['s3'] !== undefined)) {
    problems.push({
      path: 'storage.s3',
      reason: 'profile s3 (built in: the docker-registry image\'s s3 flavor) needs a bucket: set AWS_BUCKET (with AWS_KEY, AWS_SECRET and AWS_REGION), or REGISTRY_STORAGE_S3_BUCKET and the other storage.s3 keys',
    });
  }
  return problems;
}

function ownVariable(key: Alias['key']): string {
  return `REGISTRY_STORAGE_S3_${key.toUpperCase()}`;
}
