/** The `berth` command line: thin commands over library functions. */
import { config } from './config.ts';
import { events } from './events.ts';
import { mirror } from './mirror.ts';
import { serve } from './serve.ts';
import { user } from './users.ts';
import { org, team } from './orgs.ts';
import { repo } from './repos.ts';
import { auth, token } from './tokens.ts';

const USAGE = `usage: berth <command> [options]

commands:
  serve [--config FILE]   start the registry (default: 0.0.0.0:5000, ./data)
  events [--config FILE] [--failed] [--json]
                          list notification deliveries waiting (pending, failed)
  mirror status [--config FILE] [--url URL] [--user NAME] [--json]
                          per-upstream hits, misses, bytes saved, errors of the mirror
  config check [--config FILE] [--profile NAME]
                          validate and print the effective config (secrets masked)
  config example          print a commented example config
  user add|list|passwd|del|admin    users (berth user add admin --admin switches access control on)
  org add|list|show|del|member      organisations and their members
  team add|del|member|grant         teams and their roles on repositories
  repo show|visibility              a repository's settings (public or private)
  token create|list|revoke          access tokens (docker login passwords for robots and CI)
  auth rotate-key|keys              the token server's signing keys
                          (each takes --config FILE, --profile NAME and --help)
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
    case 'mirror':
      return mirror(rest);
    case 'user':
      return user(rest);
    case 'org':
      return org(rest);
    case 'team':
      return team(rest);
    case 'repo':
      return repo(rest);
    case 'token':
      return token(rest);
    case 'auth':
      return auth(rest);
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
