/**
 * The command line of every berth command, parsed one way: node:util parseArgs, with --help/-h
 * on every command and subcommand, and each mistake (an unknown option, an option without its
 * value, a missing or extra argument, an unknown subcommand) thrown as a UsageError of one line,
 * which runCommand prints with the command's usage (exit 2).
 */
import { parseArgs } from 'node:util';

/** A mistake on the command line: one line on stderr, then the command's usage; exit 2. */
export class UsageError extends Error {
  readonly code = 'BERTH_USAGE';
  override readonly name = 'UsageError';
}

/** --help or -h: the command's usage on stdout; exit 0. */
export class HelpRequested extends Error {
  readonly code = 'BERTH_HELP';
  override readonly name = 'HelpRequested';
  constructor() {
    super('help requested');
  }
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
}

export type Options = Readonly<Record<string, OptionSpec>>;

type Value<T> = T extends { multiple: true } ? string[] : T extends { type: 'boolean' } ? boolean : string;

/** The options given, typed from their specs; absent ones are undefined. */
export type Values<O extends Options> = { [K in keyof O]?: Value<O[K]> };

const HELP = { help: { type: 'boolean', short: 'h' } } as const;

/** True for a value that looks like an option (`--json`, `-c`), which a string option does not take unless written `--opt=-x`. */
function optionLike(value: string): boolean {
  return value.length > 1 && value.startsWith('-');
}

/**
 * Parse a (sub)command's arguments: its `options` and --help, and exactly the positionals named
 * in `names` (named in the "missing NAME" message), or any number more when the last name ends
 * in `...`. HelpRequested for --help or -h anywhere.
 */
export function parseCommandLine<O extends Options>(args: string[], options: O, names: readonly string[] = []): { values: Values<O>; positionals: string[] } {
  const all: Options = { ...options, ...HELP };
  // Not strict: the tokens are checked here, so that each mistake reads as one line of our own.
  const { values, positionals, tokens } = parseArgs({ args, options: all, allowPositionals: true, strict: false, tokens: true });
  if (values['help'] !== undefined) throw new HelpRequested();
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const spec = Object.hasOwn(all, token.name) ? all[token.name] : undefined;
    if (spec === undefined) throw new UsageError(`unknown option ${token.rawName}`);
    if (spec.type === 'boolean' && token.value !== undefined) throw new UsageError(`option ${token.rawName} takes no value`);
    if (spec.type === 'string' && (token.value === undefined || (!token.inlineValue && optionLike(token.value)))) {
      throw new UsageError(`option ${token.rawName} needs a value`);
    }
  }
  // A last name ending in `...` (IMAGE...) takes any number of positionals, none included: the command counts them.
  const variadic = names.at(-1)?.endsWith('...') === true;
  const required = variadic ? names.length - 1 : names.length;
  if (positionals.length < required) throw new UsageError(`missing ${names.slice(positionals.length, required).join(' ')}`);
  if (!variadic && positionals.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[names.length])}`);
  return { values: values as Values<O>, positionals };
}

/**
 * The subcommand named by the first argument, to be run with the arguments after it: a
 * UsageError when it is missing or unknown, HelpRequested for help, --help or -h. `of` names the
 * subcommand whose subcommands these are, if any (`member` of `berth org member add`).
 */
export function pickSubcommand<T>(argv: string[], subcommands: Readonly<Record<string, T>>, of?: string): { run: T; args: string[] } {
  const [name = '', ...args] = argv;
  if (name === 'help' || name === '--help' || name === '-h') throw new HelpRequested();
  const run = Object.hasOwn(subcommands, name) ? subcommands[name] : undefined;
  if (run !== undefined) return { run, args };
  const expected = `${of === undefined ? '' : ` of ${of}`} (${Object.keys(subcommands).join(', ')})`;
  if (name === '') throw new UsageError(`missing subcommand${expected}`);
  throw new UsageError(name.startsWith('-') ? `missing subcommand${expected} before ${name}` : `unknown subcommand ${JSON.stringify(name)}${expected}`);
}
