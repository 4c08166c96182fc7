/**
 * What the account commands (`berth user|org|team|repo|token|auth`) share: argument parsing with
 * the config options of `berth serve` (--config FILE, --profile NAME, REGISTRY_* variables), the
 * AccountService opened as SYSTEM on the same database the server uses (SQLite in WAL mode with a
 * busy timeout, so they run beside a serving berth), password input, and errors as one line.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { ReadStream } from 'node:tty';
import { loadConfig } from '../config/load.ts';
import { ConfigError } from '../config/errors.ts';
import type { Config } from '../config/schema.ts';
import { createMetaStore } from '../main.ts';
import { createAccessControl } from '../auth/setup.ts';
import type { AccessControl } from '../auth/access-control.ts';
import { AuthError } from '../auth/errors.ts';

export interface AccountsIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export const processIO: AccountsIO = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };

/** EX_CONFIG from sysexits.h, as `berth serve` and `berth config check` exit on a bad config. */
const EX_CONFIG = 78;

/** A mistake on the command line: printed as one line with a pointer to the help, exit 1. */
export class UsageError extends Error {}

/** --help on a subcommand: the command's usage is printed, exit 0. */
class HelpRequested extends Error {}

export const CONFIG_OPTIONS = {
  config: { type: 'string', short: 'c' },
  profile: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const CONFIG_HELP = `config options (as for berth serve):
  -c, --config FILE   the config file (default: $REGISTRY_CONFIGURATION_PATH); REGISTRY_* variables apply
  --profile NAME      a profile of the config file
`;

type Options = NonNullable<ParseArgsConfig['options']>;
type Value<T> = T extends { multiple: true } ? string[] : T extends { type: 'boolean' } ? boolean : string;
export type Values<O extends Options> = { [K in keyof (typeof CONFIG_OPTIONS & O)]?: Value<(typeof CONFIG_OPTIONS & O)[K]> };

/** Parse a subcommand's arguments: its options plus the config ones, and exactly `names` positionals. */
export function parse<O extends Options>(args: string[], options: O, names: readonly string[]): { values: Values<O>; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...CONFIG_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { positionals } = parsed;
  const values = parsed.values as Values<O>;
  if (values.help === true) throw new HelpRequested();
  if (positionals.length < names.length) throw new UsageError(`missing ${names.slice(positionals.length).join(' ')}`);
  if (positionals.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[names.length])}`);
  return { values, positionals };
}

export interface Opened {
  config: Config;
  access: AccessControl;
}

/** Load the config as `berth serve` does; ConfigError for a bad one. */
export function loadCliConfig(values: { config?: unknown; profile?: unknown }, io: AccountsIO): Config {
  const file = typeof values.config === 'string' ? values.config : io.env['REGISTRY_CONFIGURATION_PATH'] || undefined;
  const profile = typeof values.profile === 'string' ? values.profile : undefined;
  return loadConfig({ file, profile, env: io.env }).config;
}

/** Open the server's database and access control, run `fn`, close the database. */
export async function withAccounts<T>(values: { config?: unknown; profile?: unknown }, io: AccountsIO, fn: (opened: Opened) => Promise<T>): Promise<T> {
  const config = loadCliConfig(values, io);
  if (config.meta.sqlite.path === ':memory:') {
    throw new UsageError('the meta store is in memory (storage.inmemory): accounts live only in the running process');
  }
  const meta = createMetaStore(config);
  try {
    const access = await createAccessControl({ config, database: meta.database, meta });
    return await fn({ config, access });
  } finally {
    await meta.close();
  }
}

/** A command's subcommands, each given the arguments after its name; returns the exit status. */
export type Subcommands = Record<string, (args: string[]) => Promise<number>>;

/**
 * Run one account command: pick the subcommand (no subcommand or --help: the usage), and turn its
 * errors into one line on stderr. Usage and domain errors (bad name, unknown user, taken name,
 * refused) exit 1, a bad config 78, anything else 1 as well.
 */
export async function dispatch(command: string, usage: string, argv: string[], io: AccountsIO, subcommands: Subcommands): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') throw new HelpRequested();
    const run = Object.hasOwn(subcommands, sub) ? subcommands[sub] : undefined;
    if (run === undefined) throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}`);
    return await run(rest);
  } catch (err) {
    if (err instanceof HelpRequested) {
      io.stdout.write(usage);
      return 0;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`berth ${command}: ${err.message} (see berth ${command} --help)\n`);
      return 1;
    }
    if (err instanceof ConfigError) {
      io.stderr.write(`berth: invalid configuration\n${err.message}\n`);
      return EX_CONFIG;
    }
    if (err instanceof AuthError) {
      io.stderr.write(`berth ${command}: ${err.message}\n`);
      return 1;
    }
    io.stderr.write(`berth ${command}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** A line typed without echo on a terminal (the caller has put it in raw mode, before any prompt shows). */
function promptHidden(question: string, input: ReadStream, output: AccountsIO['stderr']): Promise<string> {
  output.write(question);
  input.setEncoding('utf8');
  input.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (result: () => void) => {
      input.off('data', onData);
      input.pause();
      output.write('\n');
      result();
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish(() => resolve(value));
        if (ch === '\u0003') return finish(() => reject(new Error('interrupted')));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    input.on('data', onData);
  });
}

/**
 * The password in what was piped to standard input: with --password-stdin its first line (as
 * `docker login --password-stdin` reads it); without, read the way the prompt reads a terminal,
 * the password and then its confirmation, one line each, which must match.
 */
export function passwordFromInput(text: string, fromStdin: boolean): string {
  const lines = text.split(/\r?\n/);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  const password = lines[0] ?? '';
  if (password === '') throw new UsageError('no password on standard input');
  if (fromStdin) return password;
  if (lines.length !== 2) {
    throw new UsageError('standard input is not a terminal: pipe the password twice, one line each (as the prompt asks), or once with --password-stdin');
  }
  if (lines[1] !== password) throw new UsageError('the passwords do not match');
  return password;
}

/** A new password: piped (passwordFromInput) with --password-stdin or when stdin is not a terminal, else typed twice unechoed. */
export async function readNewPassword(io: AccountsIO, fromStdin: boolean): Promise<string> {
  if (fromStdin || io.stdin.isTTY !== true) return passwordFromInput(await readAll(io.stdin), fromStdin);
  const tty = io.stdin as ReadStream;
  // Raw (no echo) from before the first prompt until after the second: nothing typed early is echoed.
  tty.setRawMode(true);
  let first: string;
  let second: string;
  try {
    first = await promptHidden('Password: ', tty, io.stderr);
    second = await promptHidden('Password (again): ', tty, io.stderr);
  } finally {
    tty.setRawMode(false);
  }
  if (first !== second) throw new Error('the passwords do not match');
  return first;
}

/** Left-aligned columns with a header row. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}

/** An epoch-milliseconds time for a table: ISO 8601 to the second, '-' for none. */
export function when(ms: number | null): string {
  return ms === null || ms === 0 ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function json(io: AccountsIO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
