/**
 * `berth config check [--config FILE] [--profile NAME]`: validate the configuration and print the
 * effective one as YAML (secrets masked), then the warnings as YAML comments, so the output stays
 * a valid config file. Exit 0 when valid; 78 (EX_CONFIG) with every problem on stderr when not.
 *
 * `berth config example`: print the commented example config.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/errors.ts';
import { exampleConfigYaml } from '../config/example.ts';
import { loadConfig } from '../config/load.ts';
import { effectiveConfigYaml } from '../config/print.ts';

export const CONFIG_USAGE = `usage: berth config check [--config FILE] [--profile NAME]
       berth config example
`;

/** EX_CONFIG from sysexits.h: the configuration is wrong. */
export const EX_CONFIG = 78;

export interface CliIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
}

const processIO: CliIO = { stdout: process.stdout, stderr: process.stderr, env: process.env };

export async function config(argv: string[], io: CliIO = processIO): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'check':
      return check(rest, io);
    case 'example':
      if (rest.length > 0) return usage(io, `unexpected argument ${JSON.stringify(rest[0])}`);
      io.stdout.write(exampleConfigYaml());
      return 0;
    case '--help':
    case '-h':
      io.stdout.write(CONFIG_USAGE);
      return 0;
    default:
      return usage(io, sub === undefined ? 'missing subcommand' : `unknown subcommand ${JSON.stringify(sub)}`);
  }
}

function check(argv: string[], io: CliIO): number {
  let values: { config?: string; profile?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { config: { type: 'string', short: 'c' }, profile: { type: 'string' } },
      allowPositionals: false,
    }));
  } catch (err) {
    return usage(io, (err as Error).message);
  }
  try {
    const loaded = loadConfig({ file: values.config, profile: values.profile, env: io.env });
    const source = [loaded.file ?? 'no config file', ...(loaded.profile !== undefined ? [`profile ${loaded.profile}`] : [])];
    io.stdout.write(`# berth config check: ${source.join(', ')}; secrets masked\n`);
    io.stdout.write(effectiveConfigYaml(loaded.config));
    const count = loaded.warnings.length === 1 ? '1 warning' : `${loaded.warnings.length} warnings`;
    io.stdout.write(`# ${loaded.warnings.length === 0 ? 'no warnings' : `${count}:`}\n`);
    for (const warning of loaded.warnings) io.stdout.write(`# warning: ${warning}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr.write(`berth: ${err.message}\n`);
    return EX_CONFIG;
  }
}

function usage(io: CliIO, problem: string): number {
  io.stderr.write(`berth config: ${problem}\n${CONFIG_USAGE}`);
  return 2;
}
