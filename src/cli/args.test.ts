/** The command-line parser every berth command shares: each mistake is a UsageError of one line of its own. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HelpRequested, parseCommandLine, pickSubcommand, UsageError } from './args.ts';

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
  scope: { type: 'string', multiple: true },
} as const;

const parse = (...args: string[]) => parseCommandLine(args, OPTIONS, ['NAME']);

function usageError(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UsageError, String(err));
    assert.equal(err.message, message);
    return true;
  });
}

describe('parseCommandLine', () => {
  it('returns the options, typed, and the positionals named', () => {
    const { values, positionals } = parse('alice', '-c', 'b.yml', '--json', '--scope', 'a', '--scope=b');
    assert.deepEqual(positionals, ['alice']);
    assert.equal(values.config, 'b.yml');
    assert.equal(values.json, true);
    assert.deepEqual(values.scope, ['a', 'b']);
  });

  it('takes a value starting with a dash only when written --opt=value, and "-" as it is', () => {
    assert.equal(parse('x', '--config=-odd.yml').values.config, '-odd.yml');
    assert.equal(parse('x', '--config', '-').values.config, '-');
    assert.deepEqual(parse('--', '--not-an-option').positionals, ['--not-an-option']);
  });

  it('says what is wrong in one line of its own', () => {
    usageError(() => parse('x', '--prot', '6000'), 'unknown option --prot');
    usageError(() => parse('x', '-Z'), 'unknown option -Z');
    usageError(() => parse('x', '--json=yes'), 'option --json takes no value');
    usageError(() => parse('x', '--config'), 'option --config needs a value');
    usageError(() => parse('x', '-c', '--json'), 'option -c needs a value');
    usageError(() => parse(), 'missing NAME');
    usageError(() => parseCommandLine(['a'], {}, ['ORG', 'TEAM', 'USER']), 'missing TEAM USER');
    usageError(() => parse('x', 'y'), 'unexpected argument "y"');
  });

  it('asks for help on --help or -h anywhere, before any other mistake', () => {
    for (const args of [['--help'], ['x', '-h'], ['--bogus', '--help'], ['a', 'b', 'c', '-h']]) {
      assert.throws(() => parse(...args), HelpRequested, args.join(' '));
    }
  });
});

describe('pickSubcommand', () => {
  const subcommands = { add: 1, del: 2 };

  it('returns the subcommand and the arguments after it', () => {
    assert.deepEqual(pickSubcommand(['del', 'x', '--json'], subcommands), { run: 2, args: ['x', '--json'] });
  });

  it('asks for help on help, --help or -h', () => {
    for (const name of ['help', '--help', '-h']) assert.throws(() => pickSubcommand([name], subcommands), HelpRequested);
  });

  it('names what is expected when the subcommand is missing or unknown', () => {
    usageError(() => pickSubcommand([], subcommands), 'missing subcommand (add, del)');
    usageError(() => pickSubcommand(['--json'], subcommands), 'missing subcommand (add, del) before --json');
    usageError(() => pickSubcommand(['frob'], subcommands, 'member'), 'unknown subcommand "frob" of member (add, del)');
    usageError(() => pickSubcommand(['toString'], subcommands), 'unknown subcommand "toString" (add, del)');
  });
});
