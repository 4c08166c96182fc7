/**
 * What the account commands (`berth user|org|team|repo|token|auth`) share: their arguments (the
 * config options of `berth serve` with their own), the AccountService opened as SYSTEM on the
 * same database the server uses (SQLite in WAL mode with a busy timeout, so they run beside a
 * serving berth), and password input. The database and auth modules load only once the command
 * line is parsed.
 */
import type { ReadStream } from 'node:tty';
import type { Config } from '../config/schema.ts';
import type { AccountService } from '../auth/accounts.ts';
import type { MetaStore } from '../meta/store.ts';
import { parseCommandLine, UsageError, type Options, type Values } from './args.ts';
import type { CliIO } from './command.ts';
import { CONFIG_OPTIONS, loadCliConfig, requireSharedMeta } from './config-options.ts';

/** Parse an account subcommand's arguments: its options and the config ones, and exactly `names` positionals. */
export function parse<O extends Options>(args: string[], options: O, names: readonly string[]): { values: Values<typeof CONFIG_OPTIONS & O>; positionals: string[] } {
  return parseCommandLine(args, { ...CONFIG_OPTIONS, ...options }, names);
}

export type ConfigValues = Values<typeof CONFIG_OPTIONS>;

export interface Opened {
  config: Config;
  accounts: AccountService;
  meta: MetaStore;
}

/**
 * Open the server's database and its accounts, run `fn`, close the database. Only the account
 * service is built (auth/accounts-setup.ts): no token service, keys or throttle, which a command
 * does not need and which cost a listing most of its start-up.
 */
export async function withAccounts<T>(values: ConfigValues, io: CliIO, fn: (opened: Opened) => Promise<T>): Promise<T> {
  const { config } = await loadCliConfig(values, io);
  requireSharedMeta(config, 'accounts live only in the running process');
  const [{ openBackend }, { openAccounts }] = await Promise.all([import('../meta/open-backend.ts'), import('../auth/accounts-setup.ts')]);
  const backend = await openBackend(config);
  try {
    const { accounts } = openAccounts({ config, store: backend.accounts, meta: backend.meta });
    return await fn({ config, accounts, meta: backend.meta });
  } finally {
    await backend.close();
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** A line typed without echo on a terminal (the caller has put it in raw mode, before any prompt shows). */
function promptHidden(question: string, input: ReadStream, output: CliIO['stderr']): Promise<string> {
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
  if (lines[1] !== password) throw new Error('the passwords do not match');
  return password;
}

/** A new password: piped (passwordFromInput) with --password-stdin or when stdin is not a terminal, else typed twice unechoed. */
export async function readNewPassword(io: CliIO, fromStdin: boolean): Promise<string> {
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
