/**
 * Registry credentials for `docker://` (issue 17), found as docker finds them: `--creds
 * user:password` first, else the docker client's config.json (`$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`; podman's auth.json after it, or `$REGISTRY_AUTH_FILE` alone, see
 * credentialFiles): a `credHelpers` entry for the host, else the `credsStore`, else the
 * `auths` entry (`auth`: base64 user:password; `identitytoken`: an OAuth2 refresh token from
 * `docker login`). A helper is `docker-credential-NAME get`, the server on stdin and
 * `{"Username","Secret"}` on stdout; the user name `<token>` means the secret is an identity token.
 *
 * Nothing here logs a secret, and errors name the host and the helper, never a credential.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CopyError } from './transport.ts';

/** What we answer a registry's challenge with. */
export type RegistryCredential =
  | { kind: 'basic'; username: string; password: string }
  /** docker login's identity token: the refresh token of the OAuth2 POST to the token realm. */
  | { kind: 'identity-token'; token: string };

export interface CredentialOptions {
  /** `user:password` (the `--creds` option); wins over everything else. */
  creds?: string;
  /** The directory of config.json (default `$DOCKER_CONFIG`, else `~/.docker`). */
  configDir?: string;
  /** The environment the helpers run with, and `$DOCKER_CONFIG` (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** A credential helper that does not answer within this is killed (default 30 s). */
  helperTimeoutMs?: number;
}

/** The key docker uses for Docker Hub in config.json and with helpers. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** `user:password` of `--creds`; the password may contain `:`. */
export function parseCreds(creds: string): RegistryCredential {
  const colon = creds.indexOf(':');
  if (colon <= 0) throw new CopyError('BERTH_COPY_CREDENTIALS_INVALID', '--creds must be USER:PASSWORD');
  return { kind: 'basic', username: creds.slice(0, colon), password: creds.slice(colon + 1) };
}

/** The server name docker gives a registry host in config.json and to helpers. */
export function serverKey(host: string): string {
  return DOCKER_HUB_HOSTS.has(host) ? DOCKER_HUB_KEY : host;
}

/** A config.json key as a host: `https://h:5000/v1/` -> `h:5000` (docker's ConvertToHostname). */
function keyHost(key: string): string {
  const bare = key.replace(/^https?:\/\//, '');
  const host = bare.split('/')[0] ?? bare;
  return DOCKER_HUB_HOSTS.has(host) ? 'docker.io' : host;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; identitytoken?: string; username?: string; password?: string } | undefined>;
  credsStore?: string;
  credHelpers?: Record<string, string | undefined>;
}

async function readConfig(file: string): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CopyError('BERTH_COPY_CREDENTIALS_INVALID', `cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as DockerConfig;
  } catch (e) {
    throw new CopyError('BERTH_COPY_CREDENTIALS_INVALID', `${file} is not valid: ${(e as Error).message}`);
  }
}

/**
 * The files credentials are read from, in order: `$REGISTRY_AUTH_FILE` alone when set (as podman
 * and skopeo do); else docker's config.json, then podman's auth.json (`podman login` writes it to
 * `$XDG_RUNTIME_DIR/containers/auth.json`, for root without that variable `/run/containers/0/`).
 */
export function credentialFiles(opts: Pick<CredentialOptions, 'configDir' | 'env'> = {}): string[] {
  const env = opts.env ?? process.env;
  const authFile = env['REGISTRY_AUTH_FILE'];
  if (opts.configDir === undefined && authFile !== undefined && authFile !== '') return [authFile];
  const dockerDir = opts.configDir ?? env['DOCKER_CONFIG'] ?? path.join(os.homedir(), '.docker');
  const files = [path.join(dockerDir, 'config.json')];
  if (opts.configDir !== undefined) return files;
  const runtime = env['XDG_RUNTIME_DIR'];
  if (runtime !== undefined && runtime !== '') files.push(path.join(runtime, 'containers', 'auth.json'));
  else if (process.getuid?.() === 0) files.push('/run/containers/0/auth.json');
  return files;
}

/** The credential for `host` (host[:port] as in the image reference), or undefined: anonymous. */
export async function credentialsFor(host: string, opts: CredentialOptions = {}): Promise<RegistryCredential | undefined> {
  if (opts.creds !== undefined) return parseCreds(opts.creds);
  for (const file of credentialFiles(opts)) {
    const config = await readConfig(file);
    if (config === undefined) continue;
    const found = await fromConfig(config, file, host, opts);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The credential one config file (docker's config.json, or podman's auth.json) has for `host`. */
async function fromConfig(config: DockerConfig, file: string, host: string, opts: CredentialOptions): Promise<RegistryCredential | undefined> {
  const env = opts.env ?? process.env;
  const server = serverKey(host);
  const wanted = keyHost(server);
  const helper = config.credHelpers?.[server] ?? findByHost(config.credHelpers ?? {}, wanted);
  if (typeof helper === 'string' && helper !== '') return fromHelper(helper, server, host, env, opts.helperTimeoutMs);
  if (typeof config.credsStore === 'string' && config.credsStore !== '') {
    const stored = await fromHelper(config.credsStore, server, host, env, opts.helperTimeoutMs);
    if (stored !== undefined) return stored;
  }
  const entry = config.auths?.[server] ?? findByHost(config.auths ?? {}, wanted);
  if (entry === undefined || entry === null || typeof entry !== 'object') return undefined;
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') return { kind: 'identity-token', token: entry.identitytoken };
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new CopyError('BERTH_COPY_CREDENTIALS_INVALID', `${file}: the auth entry for ${host} is not base64 of user:password`);
    return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string') return { kind: 'basic', username: entry.username, password: entry.password };
  return undefined;
}

function findByHost<T>(entries: Record<string, T | undefined>, host: string): T | undefined {
  for (const [key, value] of Object.entries(entries)) if (keyHost(key) === host) return value;
  return undefined;
}

const NOT_FOUND = /credentials not found/i;

/** `docker-credential-NAME get`; undefined when the helper has nothing for the server. */
async function fromHelper(name: string, server: string, host: string, env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<RegistryCredential | undefined> {
  if (!/^[\w.-]+$/.test(name)) throw new CopyError('BERTH_COPY_CREDENTIALS_INVALID', `credential helper name ${JSON.stringify(name)} is not valid`);
  const program = `docker-credential-${name}`;
  const { code, stdout, error } = await new Promise<{ code: number | null; stdout: string; error?: Error }>((resolve) => {
    const child = spawn(program, ['get'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    // Our own timer (spawn's `timeout` is left armed when the program is not found).
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.resume();
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, stdout: '', error: e });
    });
    child.on('close', (c) => {
      clearTimeout(timer);
      resolve({ code: c, stdout: out });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(server);
  });
  if (error !== undefined) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'is not installed' : 'could not run';
    throw new CopyError('BERTH_COPY_CREDENTIALS_HELPER', `credential helper ${program} ${why} (for ${host})`);
  }
  // A helper says "credentials not found in native keychain" on stdout, exit 1: not an error.
  if (code !== 0) {
    if (NOT_FOUND.test(stdout)) return undefined;
    throw new CopyError('BERTH_COPY_CREDENTIALS_HELPER', `credential helper ${program} failed for ${host} (exit ${code ?? 'on a signal'})`);
  }
  let answer: unknown;
  try {
    answer = JSON.parse(stdout);
  } catch {
    throw new CopyError('BERTH_COPY_CREDENTIALS_HELPER', `credential helper ${program} answered something not JSON for ${host}`);
  }
  const o = typeof answer === 'object' && answer !== null ? (answer as Record<string, unknown>) : {};
  const username = o['Username'];
  const secret = o['Secret'];
  if (typeof username !== 'string' || typeof secret !== 'string' || secret === '') return undefined;
  if (username === '<token>') return { kind: 'identity-token', token: secret };
  return { kind: 'basic', username, password: secret };
}
