/**
 * A build's Git side: the references a remote has (`git ls-remote`, for polling and for a manual
 * trigger), and one commit of it fetched into a directory (`git fetch --depth 1`). git runs with
 * no user or system config, no prompt, and only the http(s), ssh, git and file protocols (never
 * `ext::`). Credentials never reach argv or a log: a token goes in an http.extraHeader set through
 * the environment (GIT_CONFIG_*), an SSH key in a 0600 file of the build's own directory.
 */
import path from 'node:path';
import type { CredentialKind, SourceType } from './model.ts';
import { baseEnv, runProcess } from './process.ts';
import { NO_SANDBOX, type Sandbox } from './sandbox.ts';

export interface GitCredential {
  kind: CredentialKind;
  /** A token (or `user:token`), or an SSH private key. */
  secret: string;
}

export class GitError extends Error {
  readonly code = 'BERTH_GIT';
}

/** What a remote URL may be: http(s)://, ssh://, git://, user@host:path, or file:// (administrators only, see service). */
export function gitUrlProblem(url: string): string | undefined {
  if (url.length === 0 || url.length > 2048) return 'the Git URL must have 1 to 2048 characters';
  if (/[\s\0]/.test(url) || url.startsWith('-')) return 'the Git URL holds a space, a control character or a leading "-"';
  if (/^(https?|ssh|git|file):\/\//i.test(url)) {
    if (/^https?:\/\/[^/]*@/i.test(url)) return 'put no credentials in the Git URL: give them to the rule as its credential (they are stored sealed)';
    return undefined;
  }
  if (/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/]/.test(url) || /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:\//.test(url)) return undefined;
  return 'the Git URL must be http(s)://, ssh://, git://, file:// or user@host:path';
}

export function isFileUrl(url: string): boolean {
  return /^file:\/\//i.test(url);
}

/** `s` as one word of a POSIX shell (git runs GIT_SSH_COMMAND through one). */
function shellWord(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

/**
 * The ssh git runs: with the rule's deploy key and nothing else. ssh finds its user's config and
 * keys by the account's passwd entry, not HOME, so without `-F /dev/null` and `IdentityFile=none`
 * a rule with no credential would log in with the keys of the account berth runs as, and every
 * rule would follow that account's ~/.ssh/config. No agent, no prompt. A host key seen the first
 * time is accepted and not kept (a rule pins none: docs/builds.md says so).
 */
export function sshCommand(key?: string): string {
  const identity = key === undefined ? '-o IdentityFile=none' : `-i ${shellWord(key)}`;
  return `ssh -F /dev/null ${identity} -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null`;
}

/**
 * The environment git runs with: `home` is its HOME and where an SSH key goes, a directory of its
 * own beside the checkout, never in it (a key in the checkout would be in the build context, and
 * `COPY . /` would push it in the image).
 */
async function gitEnv(home: string, credential: GitCredential | undefined, sandbox: Sandbox): Promise<Record<string, string>> {
  await sandbox.dir(home);
  const env: Record<string, string> = {
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ALLOW_PROTOCOL: 'http:https:ssh:git:file',
    GIT_SSH_COMMAND: sshCommand(),
  };
  // The one global config git reads: a file:// remote (administrators' rules only) belongs to
  // another account than builds.user, and git's upload-pack (which sees no command-line config)
  // refuses it unless it is a safe.directory. No hook of the remote's runs to fetch from it.
  const global = path.join(home, 'gitconfig');
  await sandbox.file(global, '[safe]\n\tdirectory = *\n');
  env['GIT_CONFIG_GLOBAL'] = global;
  // Settings as git's command line gives them (GIT_CONFIG_COUNT).
  const settings: [string, string][] = [];
  if (credential?.kind === 'token') {
    const basic = credential.secret.includes(':') ? credential.secret : `x-access-token:${credential.secret}`;
    settings.push(['http.extraHeader', `Authorization: Basic ${Buffer.from(basic).toString('base64')}`]);
  }
  env['GIT_CONFIG_COUNT'] = String(settings.length);
  settings.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  if (credential?.kind === 'ssh') {
    const key = path.join(home, 'deploy-key');
    await sandbox.file(key, credential.secret.endsWith('\n') ? credential.secret : `${credential.secret}\n`);
    env['GIT_SSH_COMMAND'] = sshCommand(key);
  }
  return baseEnv(env);
}

interface GitRun {
  credential?: GitCredential | undefined;
  signal?: AbortSignal | undefined;
  onOutput?: ((t: string) => void) | undefined;
  sandbox?: Sandbox | undefined;
}

async function git(cwd: string, home: string, args: string[], opts: GitRun): Promise<string> {
  const sandbox = opts.sandbox ?? NO_SANDBOX;
  const { cmd, args: argv } = sandbox.command('git', args);
  const r = await runProcess(cmd, argv, { cwd, env: await gitEnv(home, opts.credential, sandbox), ...(opts.signal && { signal: opts.signal }), ...(opts.onOutput && { onOutput: opts.onOutput }) });
  if (r.code !== 0) throw new GitError(`git ${args[0]} failed: ${r.output.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^(Please make sure you have the correct access rights|and the repository exists\.)$/.test(l)).slice(-3).join(' ').slice(0, 500) || `exit ${r.code ?? r.signal}`}`);
  return r.output;
}

export interface RemoteRef {
  type: SourceType;
  name: string;
  commit: string;
}

/** The branches and tags of a remote (annotated tags as the commit they point to). `dir`: a scratch directory. */
export async function listRemote(url: string, dir: string, credential?: GitCredential, sandbox?: Sandbox): Promise<RemoteRef[]> {
  const out = await git(dir, path.join(dir, 'git-home'), ['ls-remote', '--heads', '--tags', '--', url], { credential, sandbox });
  const refs = new Map<string, RemoteRef>();
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f]{40,64})\trefs\/(heads|tags)\/(.+?)(\^\{\})?$/.exec(line);
    if (m === null) continue;
    const [, commit, kind, name, peeled] = m as unknown as [string, string, string, string, string | undefined];
    const type: SourceType = kind === 'heads' ? 'branch' : 'tag';
    const key = `${type}\0${name}`;
    if (peeled !== undefined || !refs.has(key)) refs.set(key, { type, name, commit });
  }
  return [...refs.values()];
}

/**
 * Fetch the commit a reference points to now into `dir/src` and check it out; returns the commit.
 * Always the reference's head, never a commit a webhook named: a delivery replayed, or signed by
 * whoever holds the hook's secret, cannot build an older commit under the rule's tag.
 * `onOutput` gets git's progress (the build's log).
 */
export async function fetchSource(url: string, ref: { type: SourceType; name: string }, dir: string, opts: GitRun): Promise<string> {
  const src = path.join(dir, 'src');
  await (opts.sandbox ?? NO_SANDBOX).dir(src);
  const home = path.join(dir, 'git-home');
  const run = (args: string[]) => git(src, home, args, opts);
  await run(['init', '--quiet']);
  const refspec = `refs/${ref.type === 'branch' ? 'heads' : 'tags'}/${ref.name}`;
  await run(['fetch', '--quiet', '--no-tags', '--depth', '1', '--', url, refspec]);
  await run(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', 'FETCH_HEAD']);
  return (await run(['rev-parse', 'HEAD'])).trim().split('\n').pop() ?? '';
}
