/**
 * The `berth` command line: thin commands over library functions. Each command's module is
 * imported only when that command runs, so `berth user list` never loads the HTTP server and
 * `berth --help` loads nothing else at all.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './args.ts';
import { processIO, runCommand, type CliIO, type Command } from './command.ts';

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
  repo show|visibility|delete       a repository's settings (public or private); delete one
  token create|list|revoke          access tokens (docker login passwords for robots and CI)
  auth rotate-key|keys              the token server's signing keys
  gc [--dry-run] [--json]  free what deletes left behind (online garbage collection)
  retention preview [--json] [--all] [--repository NAME]
                          what the retention policies would delete now, and why
  quota list|show|set|unset        namespaces' usage and limits; set or remove a limit
  immutable list|add|remove        immutable tag rules: list them, add one, lift one
  build add|rules|rm|trigger|list|logs|cancel
                          automated builds: rules that follow a Git repository, and their builds
  fsck [--repair] [--delete-orphans] [--json]
                          check every blob against its digest, and storage against the meta store
  backup DEST [--with-blobs] [--json]
                          a consistent snapshot of the meta store while berth serves, and its blob list
  restore SRC             put a backup back (berth stopped) and check storage has its blobs
  migrate --to FILE [--dry-run] [--json]
                          copy this registry into PostgreSQL and the target's storage (S3)
  import ROOT [--move | --copy] [--dry-run] [--json]
                          adopt a registry:2 (distribution) root directory: blobs, tags, manifests
  cp SRC DST [--all]      copy an image between registries (docker://), OCI layouts (oci:) and archives
                          (oci-archive:, docker-archive:), digests unchanged; resumes an interrupted copy
  replication list|trigger|runs     replication rules (replication.rules): list them, run one now, its runs
  push-images IMAGE... [--to HOST:PORT]
                          push images of the local Docker Engine (or podman) under their own names
  help [COMMAND]          show this help, or a command's (as berth COMMAND --help)

Every command and subcommand takes --help (-h); each reading the config takes --config FILE and
--profile NAME. berth --version (-V) prints the version.

exit status: 0 done, 1 failed (one line on stderr), 2 a usage error (the line, then the usage),
78 an invalid configuration (every problem on stderr)
`;

const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  serve: async () => (await import('./serve.ts')).serve,
  config: async () => (await import('./config.ts')).config,
  events: async () => (await import('./events.ts')).eventsCommand,
  gc: async () => (await import('./gc.ts')).gcCommand,
  retention: async () => (await import('./retention.ts')).retention,
  quota: async () => (await import('./quota.ts')).quota,
  immutable: async () => (await import('./immutable.ts')).immutable,
  build: async () => (await import('./builds.ts')).build,
  cp: async () => (await import('./cp.ts')).cp,
  replication: async () => (await import('./replication.ts')).replication,
  'push-images': async () => (await import('./push-images.ts')).pushImages,
  mirror: async () => (await import('./mirror.ts')).mirror,
  user: async () => (await import('./users.ts')).user,
  org: async () => (await import('./orgs.ts')).org,
  team: async () => (await import('./orgs.ts')).team,
  repo: async () => (await import('./repos.ts')).repo,
  token: async () => (await import('./tokens.ts')).token,
  auth: async () => (await import('./tokens.ts')).auth,
  fsck: async () => (await import('./fsck.ts')).fsckCommand,
  backup: async () => (await import('./backup.ts')).backupCommand,
  restore: async () => (await import('./backup.ts')).restoreCommand,
  migrate: async () => (await import('./migrate.ts')).migrateCommand,
  import: async () => (await import('./import.ts')).importCommand,
};

/** The version in berth's package.json (two levels up from src/cli/ and dist/cli/ alike). */
function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

/** `berth` itself: help, --version, and which command to run. */
const berth: Command = {
  usage: USAGE,
  async run([name = '', ...rest], io) {
    if (name === '--version' || name === '-V') {
      if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
      io.stdout.write(`${version()}\n`);
      return 0;
    }
    if (name === 'help' || name === '--help' || name === '-h') {
      const [topic, ...extra] = rest;
      if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
      if (topic !== undefined && topic !== 'help' && !Object.hasOwn(COMMANDS, topic)) throw new UsageError(`unknown command ${JSON.stringify(topic)}`);
      if (topic !== undefined && topic !== 'help') return runCli([topic, '--help'], io);
      io.stdout.write(USAGE);
      return 0;
    }
    if (name === '') throw new UsageError('missing command');
    throw new UsageError(name.startsWith('-') ? `unknown option ${name}` : `unknown command ${JSON.stringify(name)}`);
  },
};

/** Run `berth ARGV`; resolves with the exit status. */
export function runCli(argv: string[], io: CliIO = processIO): Promise<number> {
  const [name = ''] = argv;
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  return load === undefined ? runCommand('berth', berth, argv, io) : runCommand(`berth ${name}`, load, argv.slice(1), io);
}
