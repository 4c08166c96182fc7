/**
 * A build's Git side: the references a remote has (`git ls-remote`, for polling and for a manual
 * trigger), and one commit of it fetched into a directory (`git fetch --depth 1`). git runs with
 * no user or system config, no prompt, and only the http(s), ssh, git and file protocols (never
 * `ext::`). Credentials never reach argv or a log: a token goes in an http.extraHeader set through
 * the environment (GIT_CONFIG_*), an SSH key in a 0600 file of the build's own directory.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { CredentialKind, SourceType } from './model.ts';
import { baseEnv, runProcess } from './process.ts';

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
async function gitEnv(home: string, credential: GitCredential | undefined): Promise<Record<string, string>> {
  await fs.mkdir(home, { recursive: true, mode: 0o700 });
  const env: Record<string, string> = {
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ALLOW_PROTOCOL: 'http:https:ssh:git:file',
    GIT_SSH_COMMAND: sshCommand(),
  };
  if (credential?.kind === 'token') {
    const basic = credential.secret.includes(':') ? credential.secret : `x-access-token:${credential.secret}`;
    Object.assign(env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(basic).toString('base64')}` });
  } else if (credential?.kind === 'ssh') {
    const key = path.join(home, 'deploy-key');
    await fs.writeFile(key, credential.secret.endsWith('\n') ? credential.secret : `${credential.secret}\n`, { mode: 0o600 });
    env['GIT_SSH_COMMAND'] = sshCommand(key);
  }
  return baseEnv(env);
}

async function git(cwd: string, home: string, args: string[], credential: GitCredential | undefined, signal?: AbortSignal, onOutput?: (t: string) => void): Promise<string> {
  const r = await runProcess('git', args, { cwd, env: await gitEnv(home, credential), ...(signal && { signal }), ...(onOutput && { onOutput }) });
  if (r.code !== 0) throw new GitError(`git ${args[0]} failed: ${r.output.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^(Please make sure you have the correct access rights|and the repository exists\.)$/.test(l)).slice(-3).join(' ').slice(0, 500) || `exit ${r.code ?? r.signal}`}`);
  return r.output;
}

export interface RemoteRef {
  type: SourceType;
  name: string;
  commit: string;
}

/** The branches and tags of a remote (annotated tags as the commit they point to). `dir`: a scratch directory. */
export async function listRemote(url: string, dir: string, credential?: GitCredential, signal?: AbortSignal): Promise<RemoteRef[]> {
  const out = await git(dir, path.join(dir, 'git-home'), ['ls-remote', '--heads', '--tags', '--', url], credential, signal);
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
 * Fetch one reference (or one commit of it) into `dir/src` and check it out; returns the commit.
 * `onOutput` gets git's progress (the build's log).
 */
export async function fetchSource(
  url: string,
  ref: { type: SourceType; name: string; commit?: string | null },
  dir: string,
  opts: { credential?: GitCredential; signal?: AbortSignal; onOutput?: (t: string) => void },
): Promise<string> {
  const src = path.join(dir, 'src');
  await fs.mkdir(src, { recursive: true });
  const home = path.join(dir, 'git-home');
  const run = (args: string[]) => git(src, home, args, opts.credential, opts.signal, opts.onOutput);
  await run(['init', '--quiet']);
  const refspec = `refs/${ref.type === 'branch' ? 'heads' : 'tags'}/${ref.name}`;
  await run(['fetch', '--quiet', '--no-tags', '--depth', '1', '--', url, ref.commit ?? refspec]).catch(async (err: unknown) => {
    // A remote that refuses to serve a commit by its id (uploadpack.allowReachableSHA1InWant off): fetch the reference.
    if (ref.commit === undefined || ref.commit === null) throw err;
    await run(['fetch', '--quiet', '--no-tags', '--depth', '1', '--', url, refspec]);
  });
  await run(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', 'FETCH_HEAD']);
  return (await run(['rev-parse', 'HEAD'])).trim().split('\n').pop() ?? '';
}
