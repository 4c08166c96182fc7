/**
 * `berth token create|list|revoke`: personal access / robot tokens, usable as a password with
 * `docker login`; and `berth auth rotate-key|keys`: the keys that sign the token server's JWTs.
 * `token create` prints the secret alone on stdout, so a script can capture it.
 */
import { SYSTEM } from '../auth/principal.ts';
import { tokenExpiry } from '../auth/expiry.ts';
import type { SigningKeys } from '../auth/keys.ts';
import type { TokenRecord } from '../auth/store.ts';
import { parse, withAccounts, type ConfigValues } from './account-context.ts';
import { UsageError } from './args.ts';
import { withSubcommands, type CliIO } from './command.ts';
import { CONFIG_HELP, loadCliConfig } from './config-options.ts';
import { json, table, when } from './table.ts';

const TOKEN_USAGE = `usage: berth token create --user USER [--name NAME] [--scope SCOPE ...] [--expires WHEN]
       berth token list --user USER [--json]
       berth token revoke --user USER ID

Access tokens log in as their user (docker login -u USER, the token as the password), with at
most the rights of their scopes.

  create        print a new token's secret on stdout (only there, only now); details on stderr
    --name NAME       what it is for (default: cli)
    --scope SCOPE     limit it, repeatable: 'repository:alice/app:pull,push', 'repository:alice/*:pull'
    --expires WHEN    a lifetime (30d, 12h, 1d12h, or seconds) or a date (2027-01-31); default: never
  list          the user's tokens (never their secrets), docker logins included
  revoke ID     end a token at once

${CONFIG_HELP}`;

const AUTH_USAGE = `usage: berth auth rotate-key [--prune N]
       berth auth keys [--json]

The keys that sign the token server's JWTs (auth.token.keydirectory, else auth/keys beside the
database). The newest signs; every key kept verifies, so tokens already issued stay valid.

  rotate-key    add a new signing key (a running server uses it within a second)
    --prune N         then keep only the newest N keys (once the old keys' tokens have expired)
  keys          the keys, newest (signing) first

${CONFIG_HELP}`;

function requireUser(user: string | undefined): string {
  if (user === undefined || user === '') throw new UsageError('--user USER is required');
  return user;
}

function describe(t: TokenRecord): string {
  const scopes = t.scopes === null ? "all of the user's rights" : `scopes ${t.scopes.join(' ')}`;
  return `token ${t.id} "${t.name}" of ${t.user}: ${scopes}; expires ${t.expiresAt === null ? 'never' : when(t.expiresAt)}`;
}

/** --expires WHEN: a lifetime (30d) or a date (2027-01-31); a value it cannot read is a usage error. */
function expiry(when: string): number | null {
  try {
    return tokenExpiry(/^\d{4}-\d{2}-\d{2}/.test(when) ? { expiresAt: when } : { expiresIn: when });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

const CREATE_OPTIONS = {
  user: { type: 'string' },
  name: { type: 'string' },
  scope: { type: 'string', multiple: true },
  expires: { type: 'string' },
} as const;

export const token = withSubcommands(TOKEN_USAGE, {
  async create(args, io) {
    const { values } = parse(args, CREATE_OPTIONS, []);
    const user = requireUser(values.user);
    const expiresAt = values.expires === undefined ? null : expiry(values.expires);
    const created = await withAccounts(values, io, ({ accounts }) =>
      accounts.createToken(SYSTEM, user, values.name ?? 'cli', values.scope ?? null, expiresAt),
    );
    io.stderr.write(`created ${describe(created.token)}\n`);
    io.stdout.write(`${created.secret}\n`);
    return 0;
  },
  async list(args, io) {
    const { values } = parse(args, { user: { type: 'string' }, json: { type: 'boolean' } }, []);
    const user = requireUser(values.user);
    const tokens = await withAccounts(values, io, ({ accounts }) => accounts.listTokens(SYSTEM, user));
    if (values.json === true) {
      const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
      io.stdout.write(json(tokens.map((t) => ({ ...t, createdAt: iso(t.createdAt), expiresAt: iso(t.expiresAt), lastUsedAt: iso(t.lastUsedAt) }))));
    } else if (tokens.length === 0) io.stdout.write(`${user} has no tokens\n`);
    else {
      const rows = tokens.map((t) => [t.id, t.name, t.kind, t.scopes?.join(' ') ?? '*', when(t.createdAt), t.expiresAt === null ? 'never' : when(t.expiresAt), when(t.lastUsedAt)]);
      io.stdout.write(table([['ID', 'NAME', 'KIND', 'SCOPES', 'CREATED', 'EXPIRES', 'LAST USED'], ...rows]));
    }
    return 0;
  },
  async revoke(args, io) {
    const { values, positionals } = parse(args, { user: { type: 'string' } }, ['ID']);
    const user = requireUser(values.user);
    const [id = ''] = positionals;
    await withAccounts(values, io, ({ accounts }) => accounts.revokeToken(SYSTEM, user, id));
    io.stdout.write(`revoked token ${id} of ${user}\n`);
    return 0;
  },
});

/** The signing keys where the server keeps them (its key directory, or its PostgreSQL database), for fn. */
async function withKeys<T>(values: ConfigValues, io: CliIO, fn: (keys: SigningKeys) => Promise<T>): Promise<T> {
  const { config } = await loadCliConfig(values, io);
  const [{ signingKeySource }, { SigningKeys }, { openBackend }] = await Promise.all([import('../auth/setup.ts'), import('../auth/keys.ts'), import('../meta/open-backend.ts')]);
  const backend = config.database.enabled ? await openBackend(config) : undefined;
  try {
    const source = signingKeySource(config, backend?.keys);
    if (source === undefined) throw new Error('the signing keys are in memory (storage.inmemory): only the running process has them');
    return await fn(await SigningKeys.open(source));
  } finally {
    await backend?.close();
  }
}

export const auth = withSubcommands(AUTH_USAGE, {
  async 'rotate-key'(args, io) {
    const { values } = parse(args, { prune: { type: 'string' } }, []);
    const keep = values.prune === undefined ? undefined : Number(values.prune);
    if (keep !== undefined && !(Number.isInteger(keep) && keep >= 1)) {
      throw new UsageError(`--prune must be a whole number of keys to keep, at least 1, got ${JSON.stringify(values.prune)}`);
    }
    await withKeys(values, io, async (keys) => {
      const key = await keys.rotate();
      io.stdout.write(`new signing key ${key.kid}\n`);
      for (const kid of keep === undefined ? [] : await keys.prune(keep)) io.stdout.write(`removed key ${kid}\n`);
    });
    return 0;
  },
  async keys(args, io) {
    const { values } = parse(args, { json: { type: 'boolean' } }, []);
    const keys = await withKeys(values, io, async (k) => k.list());
    if (values.json === true) io.stdout.write(json(keys.map((k, i) => ({ kid: k.kid, createdAt: new Date(k.createdAt).toISOString(), signing: i === 0 }))));
    else io.stdout.write(table([['KID', 'CREATED', ''], ...keys.map((k, i) => [k.kid, when(k.createdAt), i === 0 ? 'signing' : ''])]));
    return 0;
  },
});
