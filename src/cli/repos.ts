/**
 * `berth repo show|visibility`: a repository's settings, through the AccountService as the
 * operator (SYSTEM). Visibility applies at once, also to a running server.
 */
import { SYSTEM } from '../auth/principal.ts';
import { VISIBILITIES, type Visibility } from '../auth/store.ts';
import { parse, withAccounts } from './account-context.ts';
import { UsageError } from './args.ts';
import { withSubcommands } from './command.ts';
import { CONFIG_HELP } from './config-options.ts';
import { json, when } from './table.ts';

const USAGE = `usage: berth repo show NAME [--json]
       berth repo visibility NAME public|private

  show NAME                 visibility and dates of a repository (alice/app)
  visibility NAME VALUE     public: anyone may pull, anonymous callers included;
                            private: only its owner, the organisation's teams and administrators

${CONFIG_HELP}`;

export const repo = withSubcommands(USAGE, {
  async show(args, io) {
    const { values, positionals } = parse(args, { json: { type: 'boolean' } }, ['NAME']);
    const [name = ''] = positionals;
    // the dates of every view: created by the first push, updated by the last push, tag move or delete
    const { r, times } = await withAccounts(values, io, async ({ accounts, meta }) => ({ r: await accounts.repository(SYSTEM, name), times: await meta.repositoryTimes(name) }));
    const view = { name: r.name, namespace: r.namespace, visibility: r.visibility, createdAt: when(times?.createdAt ?? null), updatedAt: when(times?.updatedAt ?? null) };
    if (values.json === true) io.stdout.write(json(view));
    else io.stdout.write(`${view.name}\n  visibility  ${view.visibility}\n  created     ${view.createdAt}\n  updated     ${view.updatedAt}\n`);
    return 0;
  },
  async visibility(args, io) {
    const { values, positionals } = parse(args, {}, ['NAME', 'public|private']);
    const [name = '', wanted = ''] = positionals;
    const visibility = VISIBILITIES.find((v): v is Visibility => v === wanted);
    if (visibility === undefined) throw new UsageError(`visibility must be public or private, got ${JSON.stringify(wanted)}`);
    await withAccounts(values, io, ({ accounts }) => accounts.setVisibility(SYSTEM, name, visibility));
    io.stdout.write(`${name} is ${visibility}\n`);
    return 0;
  },
});
