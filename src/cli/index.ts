/** The `berth` command line: thin commands over library functions. */
import { config } from './config.ts';
import { events } from './events.ts';
import { serve } from './serve.ts';

const USAGE = `usage: berth <command> [options]

commands:
  serve [--config FILE]   start the registry (default: 0.0.0.0:5000, ./data)
  events [--config FILE] [--failed] [--json]
                          list notification deliveries waiting (pending, failed)
  config check [--config FILE] [--profile NAME]
                          validate and print the effective config (secrets masked)
  config example          print a commented example config
  help                    show this help
`;

export async function runCli(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'config':
      return config(rest);
    case 'events':
      return events(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`berth: unknown command ${JSON.stringify(command)}\n${USAGE}`);
      return 2;
  }
}
