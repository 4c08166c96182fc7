/**
 * `berth repo show|visibility|delete`: a repository's settings, through the AccountService as the
 * operator (SYSTEM). Visibility applies at once, also to a running server. delete removes every
 * manifest and tag as DELETE /api/v1/repositories/NAME does, each through the registry's stores, so
 * each manifest's delete event (actor `berth-cli`) goes into the durable queue for the serving
 * berth's dispatcher to send.
 */
import { SYSTEM } from '../auth/principal.ts';
import { VISIBILITIES, type Visibility } from '../auth/store.ts';
import { parse, withAccounts } from './account-context.ts';
import { UsageError } from './args.ts';
import { withSubcommands, type CliIO } from './command.ts';
import type { Config } from '../config/schema.ts';
import { isValidName } from '../registry/reference.ts';
import { CONFIG_HELP, loadCliConfig, requireSharedMeta } from './config-options.ts';
import { withCliRegistry } from './cli-registry.ts';
import { json, when } from './table.ts';

const USAGE = `usage: berth repo show NAME [--json]
       berth repo visibility NAME public|private
       berth repo delete NAME

  show NAME                 visibility and dates of a repository (alice/app)
  visibility NAME VALUE     public: anyone may pull, anonymous callers included;
                            private: only its owner, the organisation's teams and administrators
  delete NAME               delete every manifest and tag of a repository (storage.delete.enabled
                            must be true); the blobs go at the next garbage collection. Each
                            manifest's delete event is queued for the running server to send

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
  async delete(args, io) {
    const { values, positionals } = parse(args, {}, ['NAME']);
    const [name = ''] = positionals;
    if (!isValidName(name)) throw new UsageError(`${JSON.stringify(name)} is not a repository name`);
    const { config } = await loadCliConfig(values, io);
    requireSharedMeta(config, 'only the running process holds its repositories');
    const deleted = await deleteRepository(config, name, io);
    io.stdout.write(`deleted ${name}: ${deleted} manifests\n`);
    return 0;
  },
});

/** Delete a repository through a Registry over the server's storage and database, its events queued as `berth-cli`'s. */
async function deleteRepository(config: Config, name: string, io: CliIO): Promise<number> {
  const { causedBy } = await import('../events/emitting-stores.ts');
  const { systemCause, SYSTEM_ACTORS } = await import('../events/context.ts');
  return withCliRegistry(config, io, async ({ registry }) => {
    let count = 0;
    for await (const _ of registry.deleteRepository(name, causedBy(registry.manifests, systemCause(SYSTEM_ACTORS.cli)))) count++;
    return count;
  });
}
