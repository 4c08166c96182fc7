/**
 * A berth command, and the one place its outcome becomes an exit status and text:
 *
 *   0   done (and --help: the usage on stdout)
 *   1   it failed at run time (no such user, server unreachable): one line on stderr
 *   2   a usage error (unknown option, missing argument): one line, then the usage, on stderr
 *   78  the configuration is invalid (EX_CONFIG): every problem on stderr
 *
 * No stack trace is printed: the message is what the operator acts on.
 */
import { ConfigError } from '../config/errors.ts';
import { HelpRequested, pickSubcommand, UsageError } from './args.ts';

export interface CliIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export const processIO: CliIO = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };

export interface Command {
  /** Printed by --help (on stdout) and after a usage error (on stderr). */
  usage: string;
  /** Runs with the arguments after the command's name; throws UsageError for a mistake on the command line. */
  run(argv: string[], io: CliIO): Promise<number>;
}

export type Subcommand = (args: string[], io: CliIO) => Promise<number>;

/** A command made of subcommands (`berth user add|list|...`), each given the arguments after its name. */
export function withSubcommands(usage: string, subcommands: Readonly<Record<string, Subcommand>>): Command {
  return {
    usage,
    async run(argv, io) {
      const { run, args } = pickSubcommand(argv, subcommands);
      return run(args, io);
    },
  };
}

export const EX_USAGE = 2;
/** EX_CONFIG from sysexits.h: the configuration is wrong. */
export const EX_CONFIG = 78;

/** Run `command` (called `name` in messages, as `berth user`) and turn what it throws into text and an exit status. */
export async function runCommand(name: string, command: Command | (() => Promise<Command>), argv: string[], io: CliIO): Promise<number> {
  let usage = '';
  try {
    const loaded = typeof command === 'function' ? await command() : command;
    usage = loaded.usage;
    return await loaded.run(argv, io);
  } catch (err) {
    if (err instanceof HelpRequested) {
      io.stdout.write(usage);
      return 0;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`${name}: ${err.message}\n${usage}`);
      return EX_USAGE;
    }
    if (err instanceof ConfigError) {
      io.stderr.write(`berth: ${err.message}\n`);
      return EX_CONFIG;
    }
    io.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
