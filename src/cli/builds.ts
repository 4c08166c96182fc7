/**
 * `berth build add|rules|rm|trigger|list|logs|cancel`: automated builds from the server's machine,
 * on its database, as the API does them (the same BuildService and checks). A build queued here is
 * picked up by the running server's runner (it looks at the queue every few seconds); a cancel is
 * seen by the node running the build at its next lease renewal. Secrets come from standard input
 * or a file, never from the command line (where `ps` would show them).
 */
import fs from 'node:fs/promises';
import type { Backend } from '../meta/backend.ts';
import type { Config } from '../config/schema.ts';
import { FINAL_STATUSES, type Build, type CredentialKind } from '../builds/model.ts';
import { NO_SANDBOX, Sandbox } from '../builds/sandbox.ts';
import type { BuildService } from '../builds/service.ts';
import { parse, type ConfigValues } from './account-context.ts';
import { UsageError } from './args.ts';
import { withSubcommands, type CliIO } from './command.ts';
import { CONFIG_HELP, loadCliConfig, requireSharedMeta } from './config-options.ts';
import { json, table, when } from './table.ts';

const USAGE = `usage: berth build add NAME --git URL (--branch SOURCE | --source-tag SOURCE) [--tag TAG]
                 [--dockerfile PATH] [--context PATH] [--build-arg KEY=VALUE]... [--poll]
                 [--token-stdin | --ssh-key FILE] [--owner USER] [--json]
       berth build rules NAME [--json]
       berth build rm NAME RULE
       berth build trigger NAME [--rule RULE] [--ref REF] [--json]
       berth build list NAME [--limit N] [--json]
       berth build logs NAME BUILD_ID [--follow]
       berth build cancel NAME BUILD_ID

  add       a build rule: builds of the branch or tag SOURCE (a name, or a /regular expression/)
            of the Git repository URL are pushed to NAME:TAG (default latest; {sourceref} is the
            branch or tag name, {1}..{9} the expression's groups: --source-tag '/^v([0-9.]+)$/'
            --tag '{1}' pushes v1.2 as 1.2). Prints the webhook URL and its secret, once.
            --poll asks the remote for new commits every builds.pollinterval instead of waiting
            for a webhook. --token-stdin reads a token (or user:token) for a private remote from
            standard input, --ssh-key a deploy key from a file; both are stored sealed.
            --owner: the user the builds push as (required once access control is on)
  rules     the repository's rules (no secrets)
  rm        remove a rule (its builds stay listed)
  trigger   build now: every rule's source (or --rule's), or the branch or tag --ref
  list      the repository's builds, newest first
  logs      a build's log; --follow prints it as it comes until the build ends
  cancel    cancel a queued build, or stop a running one

${CONFIG_HELP}`;

interface Opened {
  config: Config;
  backend: Backend;
  service: BuildService;
}

async function withBuilds<T>(values: ConfigValues, io: CliIO, fn: (o: Opened) => Promise<T>): Promise<T> {
  const { config } = await loadCliConfig(values, io);
  if (!config.builds.enabled) throw new Error('automated builds are off in this configuration (builds.enabled)');
  requireSharedMeta(config, 'builds live only in the running process');
  const [{ openBackend }, { buildService }] = await Promise.all([import('../meta/open-backend.ts'), import('../builds/setup.ts')]);
  const backend = await openBackend(config);
  try {
    // As root, `trigger` lists a remote as the builds do (builds.user); otherwise as whoever runs the CLI.
    const sandbox = process.getuid?.() === 0 ? Sandbox.forProcess(config.builds.user) : NO_SANDBOX;
    return await fn({ config, backend, service: buildService(config, backend, undefined, undefined, sandbox) });
  } finally {
    await backend.close();
  }
}

function buildId(text: string | undefined): number {
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id <= 0) throw new UsageError(`BUILD_ID: ${JSON.stringify(text)} is not a build number`);
  return id;
}

function renderBuilds(builds: Build[]): string {
  if (builds.length === 0) return 'no builds\n';
  return table([
    ['ID', 'STATUS', 'REF', 'TAG', 'STARTED', 'FINISHED', 'DIGEST / ERROR'],
    ...builds.map((b) => [String(b.id), b.status, b.ref, b.tag, when(b.startedAt), when(b.finishedAt), b.digest ?? b.error ?? '']),
  ]);
}

async function readStdin(io: CliIO): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of io.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8').trim();
}

const CLI_ACTOR = { name: null, admin: true };

export const build = withSubcommands(USAGE, {
  async add(args, io) {
    const { values, positionals } = parse(
      args,
      {
        git: { type: 'string' },
        branch: { type: 'string' },
        'source-tag': { type: 'string' },
        tag: { type: 'string' },
        dockerfile: { type: 'string' },
        context: { type: 'string' },
        'build-arg': { type: 'string', multiple: true },
        poll: { type: 'boolean' },
        'token-stdin': { type: 'boolean' },
        'ssh-key': { type: 'string' },
        owner: { type: 'string' },
        json: { type: 'boolean' },
      },
      ['NAME'],
    );
    const [name = ''] = positionals;
    if (values.git === undefined) throw new UsageError('--git URL is required');
    if ((values.branch === undefined) === (values['source-tag'] === undefined)) throw new UsageError('give one of --branch SOURCE or --source-tag SOURCE');
    if (values['token-stdin'] === true && values['ssh-key'] !== undefined) throw new UsageError('give one of --token-stdin or --ssh-key');
    const buildArgs: Record<string, string> = {};
    for (const kv of values['build-arg'] ?? []) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new UsageError(`--build-arg ${JSON.stringify(kv)}: expected KEY=VALUE`);
      buildArgs[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    let credential: { kind: CredentialKind; secret: string } | undefined;
    if (values['token-stdin'] === true) credential = { kind: 'token', secret: await readStdin(io) };
    if (values['ssh-key'] !== undefined) credential = { kind: 'ssh', secret: await fs.readFile(values['ssh-key'], 'utf8') };
    const created = await withBuilds(values, io, async ({ backend, service }) => {
      if (values.owner !== undefined && (await backend.accounts.getUser(values.owner)) === undefined) throw new Error(`no user ${JSON.stringify(values.owner)}`);
      if (values.owner === undefined && (await backend.accounts.hasUsers())) throw new UsageError('access control is on: give --owner USER, the user whose rights the builds push with');
      return service.addRule(
        name,
        {
          gitUrl: values.git ?? '',
          sourceType: values.branch !== undefined ? 'branch' : 'tag',
          source: values.branch ?? values['source-tag'] ?? '',
          tag: values.tag ?? 'latest',
          ...(values.dockerfile !== undefined && { dockerfile: values.dockerfile }),
          ...(values.context !== undefined && { context: values.context }),
          buildArgs,
          poll: values.poll === true,
          ...(credential !== undefined && { credential }),
        },
        { name: values.owner ?? null, admin: true },
      );
    });
    const { hookPath, ruleView } = await import('../builds/views.ts');
    const path = hookPath(created.rule);
    if (values.json === true) io.stdout.write(json({ ...ruleView(created.rule, path), hookSecret: created.hookSecret }));
    else {
      io.stdout.write(`rule ${created.rule.id}: ${created.rule.sourceType} ${created.rule.source} of ${created.rule.gitUrl} -> ${name}:${created.rule.tag}\n`);
      io.stdout.write(`webhook: POST http(s)://<this registry>${path}\n`);
      io.stdout.write(`secret:  ${created.hookSecret}\n(the secret is shown only now: give it to the Git host as the webhook's secret, or GitLab's secret token)\n`);
    }
    return 0;
  },
  async rules(args, io) {
    const { values, positionals } = parse(args, { json: { type: 'boolean' } }, ['NAME']);
    const rules = await withBuilds(values, io, ({ service }) => service.rules(positionals[0] ?? ''));
    const { hookPath, ruleView } = await import('../builds/views.ts');
    if (values.json === true) io.stdout.write(json(rules.map((r) => ruleView(r, hookPath(r)))));
    else if (rules.length === 0) io.stdout.write('no build rules\n');
    else io.stdout.write(table([['RULE', 'SOURCE', 'GIT', 'TAG', 'DOCKERFILE', 'POLL'], ...rules.map((r) => [r.id, `${r.sourceType} ${r.source}`, r.gitUrl, r.tag, `${r.context}/${r.dockerfile}`, r.poll ? 'yes' : 'no'])]));
    return 0;
  },
  async rm(args, io) {
    const { values, positionals } = parse(args, {}, ['NAME', 'RULE']);
    await withBuilds(values, io, ({ service }) => service.removeRule(positionals[0] ?? '', positionals[1] ?? ''));
    io.stdout.write(`rule ${positionals[1]} removed\n`);
    return 0;
  },
  async trigger(args, io) {
    const { values, positionals } = parse(args, { rule: { type: 'string' }, ref: { type: 'string' }, json: { type: 'boolean' } }, ['NAME']);
    const builds = await withBuilds(values, io, ({ service }) =>
      service.trigger(positionals[0] ?? '', { ...(values.rule !== undefined && { rule: values.rule }), ...(values.ref !== undefined && { ref: values.ref }) }, CLI_ACTOR),
    );
    const { buildView } = await import('../builds/views.ts');
    io.stdout.write(values.json === true ? json(builds.map(buildView)) : builds.map((b) => `build ${b.id} queued: ${b.ref} -> ${b.repository}:${b.tag}\n`).join(''));
    return 0;
  },
  async list(args, io) {
    const { values, positionals } = parse(args, { limit: { type: 'string' }, json: { type: 'boolean' } }, ['NAME']);
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit N: a number from 1 to 1000');
    const builds = await withBuilds(values, io, ({ service }) => service.builds(positionals[0] ?? '', { limit }));
    const { buildView } = await import('../builds/views.ts');
    io.stdout.write(values.json === true ? json(builds.map(buildView)) : renderBuilds(builds));
    return 0;
  },
  async logs(args, io) {
    const { values, positionals } = parse(args, { follow: { type: 'boolean', short: 'f' } }, ['NAME', 'BUILD_ID']);
    const name = positionals[0] ?? '';
    const id = buildId(positionals[1]);
    const status = await withBuilds(values, io, async ({ service }) => {
      let next = 0;
      for (;;) {
        const { build: b, chunks } = await service.log(name, id, next);
        for (const c of chunks) io.stdout.write(c.text);
        next = (chunks.at(-1)?.seq ?? next - 1) + 1;
        if (values.follow !== true || FINAL_STATUSES.has(b.status)) {
          // the last lines are stored before the status changes: read once more when it just ended
          if (values.follow === true) for (const c of (await service.log(name, id, next)).chunks) io.stdout.write(c.text);
          return b.status;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    });
    return values.follow === true && status !== 'succeeded' ? 1 : 0;
  },
  async cancel(args, io) {
    const { values, positionals } = parse(args, {}, ['NAME', 'BUILD_ID']);
    const b = await withBuilds(values, io, ({ service }) => service.cancel(positionals[0] ?? '', buildId(positionals[1])));
    io.stdout.write(b.status === 'cancelled' ? `build ${b.id} cancelled\n` : b.status === 'running' ? `build ${b.id} is being stopped\n` : `build ${b.id} had already ended (${b.status})\n`);
    return 0;
  },
});
