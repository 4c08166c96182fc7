/**
 * The options every command that reads the configuration takes, as `berth serve` does:
 * --config FILE and --profile NAME, REGISTRY_* variables applying over them. The config loader
 * (zod, yaml) is imported only once the command line is parsed, so --help and usage errors stay
 * quick.
 */
import type { LoadedConfig } from '../config/load.ts';
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
