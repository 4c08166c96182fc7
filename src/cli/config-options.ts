/**
 * The options every command that reads the configuration takes, as `berth serve` does:
 * --config FILE and --profile NAME, REGISTRY_* variables applying over them. The config loader
 * (zod, yaml) is imported only once the command line is parsed, so --help and usage errors stay
 * quick.
 */
import type { LoadedConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { CliIO } from './command.ts';

export const CONFIG_OPTIONS = {
  config: { type: 'string', short: 'c' },
  profile: { type: 'string' },
} as const;

export const CONFIG_HELP = `config options (the same for every command):
  -c, --config FILE   the config file (default: $REGISTRY_CONFIGURATION_PATH); REGISTRY_* variables apply
  --profile NAME      a profile of the config file (default: $REGISTRY_PROFILE)
`;

/** Load the config as `berth serve` does; a ConfigError (exit 78) for a bad one. */
export async function loadCliConfig(values: { config?: string; profile?: string }, io: CliIO): Promise<LoadedConfig> {
  const { loadConfig } = await import('../config/load.ts');
  return loadConfig({ file: values.config, profile: values.profile, env: io.env });
}

/**
 * Refuse a command that works on the server's meta store when that store lives only in the
 * server's memory (storage.inmemory, no database): `where` says where the thing is done instead.
 */
export function requireSharedMeta(config: Pick<Config, 'database' | 'meta'>, where: string): void {
  if (!config.database.enabled && config.meta.sqlite.path === ':memory:') throw new Error(`the meta store is in memory (storage.inmemory): ${where}`);
}
