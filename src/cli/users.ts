/**
 * `berth user add|list|passwd|del|admin`: users, managed through the AccountService as the
 * operator (SYSTEM) on the database `berth serve` uses, also while it runs. The first user
 * created switches access control on.
 */
import { SYSTEM } from '../auth/principal.ts';
import { parse, readNewPassword, withAccounts } from './account-context.ts';
import { UsageError } from './args.ts';
import { withSubcommands } from './command.ts';
import { CONFIG_HELP } from './config-options.ts';
import { json, table } from './table.ts';

const USAGE = `usage: berth user add NAME [--admin] [--password-stdin]
       berth user list [--json]
       berth user passwd NAME [--password-stdin]
       berth user del NAME
       berth user admin NAME true|false

Users of the registry, in the database berth serve uses (safe while it runs). The first user
switches access control on; make it an administrator (--admin).

  add NAME          create a user; the password is typed twice on a terminal, or piped twice
                    (password and confirmation, one line each); --password-stdin: the first line
                    of standard input, once
  list              every user, with the administrators marked
  passwd NAME       set a new password; the user's docker logins (refresh tokens) end
  del NAME          delete a user with their tokens and memberships
  admin NAME BOOL   make a user an administrator (true) or not (false)

${CONFIG_HELP}`;

const PASSWORD_STDIN = { 'password-stdin': { type: 'boolean' } } as const;

function bool(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`expected true or false, got ${JSON.stringify(value)}`);
}

export const user = withSubcommands(USAGE, {
  async add(args, io) {
    const { values, positionals } = parse(args, { admin: { type: 'boolean' }, ...PASSWORD_STDIN }, ['NAME']);
    const [name = ''] = positionals;
    const { checkAccountName } = await import('../auth/accounts.ts');
    checkAccountName('user', name); // before the password is asked for
    await withAccounts(values, io, async ({ accounts }) => {
      const password = await readNewPassword(io, values['password-stdin'] === true);
      const created = await accounts.createUser(SYSTEM, name, password, values.admin === true);
      io.stdout.write(`created user ${created.name}${created.admin ? ' (administrator)' : ''}\n`);
    });
    return 0;
  },
  async list(args, io) {
    const { values } = parse(args, { json: { type: 'boolean' } }, []);
    const users = await withAccounts(values, io, ({ accounts }) => accounts.listUsers(SYSTEM));
    if (values.json === true) io.stdout.write(json(users));
    else if (users.length === 0) io.stdout.write('no users: access control is off until the first one is created\n');
    else io.stdout.write(table([['NAME', 'ADMIN', 'CREATED'], ...users.map((u) => [u.name, u.admin ? 'yes' : 'no', u.createdAt.replace(/\.\d{3}Z$/, 'Z')])]));
    return 0;
  },
  async passwd(args, io) {
    const { values, positionals } = parse(args, PASSWORD_STDIN, ['NAME']);
    const [name = ''] = positionals;
    await withAccounts(values, io, async ({ accounts }) => {
      await accounts.getUser(SYSTEM, name);
      await accounts.setPassword(SYSTEM, name, await readNewPassword(io, values['password-stdin'] === true));
    });
    io.stdout.write(`password of ${name} changed\n`);
    return 0;
  },
  async del(args, io) {
    const { values, positionals } = parse(args, {}, ['NAME']);
    const [name = ''] = positionals;
    await withAccounts(values, io, ({ accounts }) => accounts.deleteUser(SYSTEM, name));
    io.stdout.write(`deleted user ${name}\n`);
    return 0;
  },
  async admin(args, io) {
    const { values, positionals } = parse(args, {}, ['NAME', 'true|false']);
    const [name = '', flag = ''] = positionals;
    const admin = bool(flag);
    await withAccounts(values, io, ({ accounts }) => accounts.setAdmin(SYSTEM, name, admin));
    io.stdout.write(`${name} is ${admin ? 'now' : 'no longer'} an administrator\n`);
    return 0;
  },
});
