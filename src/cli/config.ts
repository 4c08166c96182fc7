/**
 * `berth config check [--config FILE] [--profile NAME]`: validate the configuration and print the
 * effective one as YAML (secrets masked), then the warnings as YAML comments, so the output stays
 * a valid config file. Exit 0 when valid; 78 (EX_CONFIG) with every problem on stderr when not.
 *
 * `berth config example`: print the commented example config.
 */
import { parseCommandLine } from './args.ts';
import { withSubcommands } from './command.ts';
import { CONFIG_HELP, CONFIG_OPTIONS, loadCliConfig } from './config-options.ts';

export const CONFIG_USAGE = `usage: berth config check [--config FILE] [--profile NAME]
       berth config example

  check     validate the configuration and print the effective one (secrets masked), then its
            warnings as comments; exit 78 with every problem on stderr when it is invalid
  example   print a commented example config

${CONFIG_HELP}`;

export const config = withSubcommands(CONFIG_USAGE, {
  async check(args, io) {
    const { values } = parseCommandLine(args, CONFIG_OPTIONS);
    const loaded = await loadCliConfig(values, io);
    const { effectiveConfigYaml } = await import('../config/print.ts');
    const source = [loaded.file ?? 'no config file', ...(loaded.profile !== undefined ? [`profile ${loaded.profile}`] : [])];
    io.stdout.write(`# berth config check: ${source.join(', ')}; secrets masked\n`);
    io.stdout.write(effectiveConfigYaml(loaded.config));
    const count = loaded.warnings.length === 1 ? '1 warning' : `${loaded.warnings.length} warnings`;
    io.stdout.write(`# ${loaded.warnings.length === 0 ? 'no warnings' : `${count}:`}\n`);
    for (const warning of loaded.warnings) io.stdout.write(`# warning: ${warning}\n`);
    return 0;
  },
  async example(args, io) {
    parseCommandLine(args, {});
    const { exampleConfigYaml } = await import('../config/example.ts');
    io.stdout.write(exampleConfigYaml());
    return 0;
  },
});
