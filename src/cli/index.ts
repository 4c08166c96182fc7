/** The `berth` command line: thin commands over library functions. */
import { serve } from './serve.ts';

const USAGE = `usage: berth <command> [options]

commands:
  serve [--config FILE]   start the registry (default: 0.0.0.0:5000, ./data)
  help                    show this help
`;

export async function runCli(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
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
