/**
 * `berth repo show|visibility`: a repository's settings, through the AccountService as the
 * operator (SYSTEM). Visibility applies at once, also to a running server.
 */
import { SYSTEM } from '../auth/principal.ts';
import { VISIBILITIES, type Visibility } from '../auth/store.ts';
import { CONFIG_HELP, dispatch, json, parse, processIO, UsageError, when, withAccounts, type AccountsIO } from './account-context.ts';

export const REPO_USAGE = `usage: berth repo show NAME [--json]
       berth repo visibility NAME public|private

  show NAME                 visibility and dates of a repository (alice/app)
  visibility NAME VALUE     public: anyone may pull, anonymous callers included;
                            private: only its owner, the organisation's teams and administrators

${CONFIG_HELP}`;

export function repo(argv: string[], io: AccountsIO = processIO): Promise<number> {
  return dispatch('repo', REPO_USAGE, argv, io, {
    async show(args) {
      const { values, positionals } = parse(args, { json: { type: 'boolean' } }, ['NAME']);
      const [name = ''] = positionals;
      const r = await withAccounts(values, io, ({ access }) => access.accounts.repository(SYSTEM, name));
      const view = { name: r.name, namespace: r.namespace, visibility: r.visibility, createdAt: when(r.createdAt), updatedAt: when(r.updatedAt) };
      if (values.json) json(io, view);
      else io.stdout.write(`${view.name}\n  visibility  ${view.visibility}\n  created     ${view.createdAt}\n  updated     ${view.updatedAt}\n`);
      return 0;
    },
    async visibility(args) {
      const { values, positionals } = parse(args, {}, ['NAME', 'public|private']);
      const [name = '', wanted = ''] = positionals;
      const visibility = VISIBILITIES.find((v): v is Visibility => v === wanted);
      if (visibility === undefined) throw new UsageError(`visibility must be public or private, got ${JSON.stringify(wanted)}`);
      await withAccounts(values, io, ({ access }) => access.accounts.setVisibility(SYSTEM, name, visibility));
      io.stdout.write(`${name} is ${visibility}\n`);
      return 0;
    },
  });
}
