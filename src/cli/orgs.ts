/**
 * `berth org ...` and `berth team ...`: organisations, their members, teams and the teams'
 * roles on repositories, managed through the AccountService as the operator (SYSTEM).
 */
import { SYSTEM } from '../auth/principal.ts';
import { ROLES, type Role } from '../auth/store.ts';
import { parse, withAccounts } from './account-context.ts';
import { pickSubcommand, UsageError } from './args.ts';
import { withSubcommands, type Subcommand } from './command.ts';
import { CONFIG_HELP } from './config-options.ts';
import { json, table, when } from './table.ts';

const ORG_USAGE = `usage: berth org add ORG --owner USER
       berth org list [--json]
       berth org show ORG [--json]
       berth org del ORG
       berth org member add ORG USER [--owner]
       berth org member del ORG USER

Organisations own the repositories under their name (acme/*). Their owners manage them; their
teams get roles on repositories (berth team).

  add ORG --owner USER      create an organisation with its first owner
  list                      every organisation
  show ORG                  members and teams, with the teams' roles
  del ORG                   delete an organisation with its teams (not its repositories)
  member add ORG USER       add a member, or change one (--owner: an owner, else a plain member)
  member del ORG USER       remove a member (not the last owner)

${CONFIG_HELP}`;

const TEAM_USAGE = `usage: berth team add ORG TEAM
       berth team del ORG TEAM
       berth team member add ORG TEAM USER
       berth team member del ORG TEAM USER
       berth team grant ORG TEAM REPO|'*' read|write|admin|none

Teams of an organisation hold a role on one of its repositories, or on all of them ('*'):
read pulls, write also pushes, admin also deletes and changes visibility; none revokes.

  add ORG TEAM                  create a team
  del ORG TEAM                  delete a team
  member add ORG TEAM USER      add a user to a team (making them a member of ORG)
  member del ORG TEAM USER      remove a user from a team
  grant ORG TEAM REPO ROLE      REPO is ORG/NAME, NAME, or '*' for every repository of ORG

${CONFIG_HELP}`;

/** `member add|del ...`: the action, and the arguments after it. */
function memberAction(args: string[]): { action: 'add' | 'del'; rest: string[] } {
  const { run: action, args: rest } = pickSubcommand(args, { add: 'add', del: 'del' } as const, 'member');
  return { action, rest };
}

export const org = withSubcommands(ORG_USAGE, {
  async add(args, io) {
    const { values, positionals } = parse(args, { owner: { type: 'string' } }, ['ORG']);
    const owner = values.owner;
    if (owner === undefined) throw new UsageError('an organisation needs an owner: --owner USER');
    const [name = ''] = positionals;
    await withAccounts(values, io, ({ accounts }) => accounts.createOrg(SYSTEM, name, owner));
    io.stdout.write(`created organisation ${name}, owned by ${owner}\n`);
    return 0;
  },
  async list(args, io) {
    const { values } = parse(args, { json: { type: 'boolean' } }, []);
    const orgs = await withAccounts(values, io, ({ accounts }) => accounts.listOrgs(SYSTEM));
    if (values.json === true) io.stdout.write(json(orgs.map((o) => ({ name: o.name, createdAt: new Date(o.createdAt).toISOString() }))));
    else if (orgs.length === 0) io.stdout.write('no organisations\n');
    else io.stdout.write(table([['NAME', 'CREATED'], ...orgs.map((o) => [o.name, when(o.createdAt)])]));
    return 0;
  },
  async show(args, io) {
    const { values, positionals } = parse(args, { json: { type: 'boolean' } }, ['ORG']);
    const [name = ''] = positionals;
    const { org: record, members, teams } = await withAccounts(values, io, ({ accounts }) => accounts.getOrg(SYSTEM, name));
    if (values.json === true) {
      io.stdout.write(json({ name: record.name, createdAt: new Date(record.createdAt).toISOString(), members, teams: teams.map(({ org: _, ...t }) => t) }));
      return 0;
    }
    io.stdout.write(`organisation ${record.name}, created ${when(record.createdAt)}\n\n`);
    io.stdout.write(table([['MEMBER', 'OWNER'], ...members.map((m) => [m.user, m.owner ? 'yes' : 'no'])]));
    if (teams.length > 0) {
      const rows = teams.map((t) => [
        t.name,
        t.members.join(',') || '-',
        t.permissions.map((p) => `${p.repository === '' ? '*' : p.repository}:${p.role}`).join(',') || '-',
      ]);
      io.stdout.write(`\n${table([['TEAM', 'MEMBERS', 'ROLES'], ...rows])}`);
    }
    return 0;
  },
  async del(args, io) {
    const { values, positionals } = parse(args, {}, ['ORG']);
    const [name = ''] = positionals;
    await withAccounts(values, io, ({ accounts }) => accounts.deleteOrg(SYSTEM, name));
    io.stdout.write(`deleted organisation ${name}\n`);
    return 0;
  },
  async member(args, io) {
    const { action, rest } = memberAction(args);
    const { values, positionals } = parse(rest, { owner: { type: 'boolean' } }, ['ORG', 'USER']);
    const [name = '', user = ''] = positionals;
    const owner = values.owner === true;
    if (action === 'del' && owner) throw new UsageError('--owner is for member add');
    await withAccounts(values, io, ({ accounts }) =>
      action === 'add' ? accounts.setOrgMember(SYSTEM, name, user, owner) : accounts.removeOrgMember(SYSTEM, name, user),
    );
    io.stdout.write(action === 'add' ? `${user} is ${owner ? 'an owner' : 'a member'} of ${name}\n` : `removed ${user} from ${name}\n`);
    return 0;
  },
});

function roleOf(text: string): Role | null {
  if (text === 'none') return null;
  const role = ROLES.find((r) => r === text);
  if (role === undefined) throw new UsageError(`role must be read, write, admin or none, got ${JSON.stringify(text)}`);
  return role;
}

/** `team add|del ORG TEAM`. */
const addOrDel = (action: 'add' | 'del'): Subcommand => async (args, io) => {
  const { values, positionals } = parse(args, {}, ['ORG', 'TEAM']);
  const [name = '', teamName = ''] = positionals;
  await withAccounts(values, io, ({ accounts }) =>
    action === 'add' ? accounts.createTeam(SYSTEM, name, teamName) : accounts.deleteTeam(SYSTEM, name, teamName),
  );
  io.stdout.write(`${action === 'add' ? 'created' : 'deleted'} team ${name}/${teamName}\n`);
  return 0;
};

export const team = withSubcommands(TEAM_USAGE, {
  add: addOrDel('add'),
  del: addOrDel('del'),
  async member(args, io) {
    const { action, rest } = memberAction(args);
    const { values, positionals } = parse(rest, {}, ['ORG', 'TEAM', 'USER']);
    const [name = '', teamName = '', user = ''] = positionals;
    await withAccounts(values, io, ({ accounts }) =>
      action === 'add' ? accounts.addTeamMember(SYSTEM, name, teamName, user) : accounts.removeTeamMember(SYSTEM, name, teamName, user),
    );
    io.stdout.write(action === 'add' ? `added ${user} to team ${name}/${teamName}\n` : `removed ${user} from team ${name}/${teamName}\n`);
    return 0;
  },
  async grant(args, io) {
    const { values, positionals } = parse(args, {}, ['ORG', 'TEAM', 'REPO', 'ROLE']);
    const [name = '', teamName = '', repo = '', roleText = ''] = positionals;
    const role = roleOf(roleText);
    // '*' is every repository of the organisation; a bare name is one of its repositories.
    const repository = repo === '*' ? '' : repo.includes('/') ? repo : `${name}/${repo}`;
    await withAccounts(values, io, ({ accounts }) => accounts.setTeamPermission(SYSTEM, name, teamName, repository, role));
    const target = repository === '' ? `every repository of ${name}` : repository;
    io.stdout.write(role === null ? `team ${name}/${teamName} has no role on ${target} any more\n` : `team ${name}/${teamName} has ${role} on ${target}\n`);
    return 0;
  },
});
