/**
 * An in-process berth with access control, for the real-client auth tests (test/interop/auth-*).
 * Users, tokens and visibility are set through the library (AccountService as SYSTEM), so the
 * tests depend on no CLI. The server's log is kept at info level (access log included) for failure
 * messages, and the authenticator is wrapped to record every password login and refresh-token
 * grant (docker's identity token), so a test can tell how a client authenticated.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { pino } from 'pino';
import { hash } from 'bcryptjs';
import { configSchema, type ConfigInput } from '../../src/config/schema.ts';
import { startRegistry, type RunningRegistry } from '../../src/main.ts';
import type { AccountService } from '../../src/auth/accounts.ts';
import { basicHeader, type Credentials } from './auth-client.ts';
import { run, tempDir, which } from './process.ts';

export interface LoginEvent {
  /** 'password': a user name with a password or access token (Basic, or grant_type=password); 'refresh': grant_type=refresh_token. */
  kind: 'password' | 'refresh';
  /** The user who logged in; '' for a refresh token that named nobody. */
  user: string;
  ok: boolean;
}

export interface AuthRegistry {
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT, for image references */
  host: string;
  root: string;
  running: RunningRegistry;
  accounts: AccountService;
  /** Every authentication the server saw, in order. */
  logins: LoginEvent[];
  /** The server's log lines (JSON), the last MiB. */
  logs(): string;
  stop(): Promise<void>;
}

/** Starts berth in this process on 127.0.0.1:0 with a root of its own; `config` is merged over the defaults. */
export async function startAuthRegistry(config: ConfigInput = {}): Promise<AuthRegistry> {
  const root = await tempDir('auth-root');
  let text = '';
  const sink = {
    write(line: string): void {
      text += line;
      if (text.length > 1 << 20) text = text.slice(text.length - (1 << 20));
    },
  };
  const parsed = configSchema.parse({
    ...config,
    http: { ...config.http, addr: '127.0.0.1:0' },
    log: { level: 'info', ...config.log },
    storage: { ...config.storage, filesystem: { rootdirectory: root } },
  });
  const running = await startRegistry(parsed, pino({ level: 'info' }, sink));
  const logins: LoginEvent[] = [];
  const authenticator = running.access.authenticator;
  const login = authenticator.login.bind(authenticator);
  const refresh = authenticator.refresh.bind(authenticator);
  authenticator.login = async (user, password, addr) => {
    try {
      const principal = await login(user, password, addr);
      logins.push({ kind: 'password', user, ok: true });
      return principal;
    } catch (err) {
      logins.push({ kind: 'password', user, ok: false });
      throw err;
    }
  };
  authenticator.refresh = async (secret, addr) => {
    try {
      const principal = await refresh(secret, addr);
      logins.push({ kind: 'refresh', user: principal.name, ok: true });
      return principal;
    } catch (err) {
      logins.push({ kind: 'refresh', user: '', ok: false });
      throw err;
    }
  };
  const { port } = running.address;
  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    root,
    running,
    accounts: running.access.accounts,
    logins,
    logs: () => text,
    stop: () =>
      (stopped ??= (async () => {
        await running.close(1000);
        await rm(root, { recursive: true, force: true });
      })()),
  };
}

/** The status of HEAD on a manifest as `who`, with Basic credentials (berth accepts them directly on /v2/). */
export async function headStatus(reg: { url: string }, repo: string, ref: string, who: Credentials): Promise<number> {
  const accept = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'].join(', ');
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${ref}`, { method: 'HEAD', headers: { authorization: basicHeader(who), accept } });
  return res.status;
}

/**
 * Checks that GET /v2/ without credentials is refused: access control is on from the first request
 * after the first user is created (by this process or the CLI's). Returns the challenge.
 */
export async function expectAccessControl(reg: { url: string }): Promise<string> {
  const res = await fetch(`${reg.url}/v2/`);
  await res.arrayBuffer();
  assert.equal(res.status, 401, `GET /v2/ still answers ${res.status} without credentials: access control did not switch on`);
  return res.headers.get('www-authenticate') ?? '';
}

/**
 * An htpasswd line for `user` with a bcrypt hash: from Apache's `htpasswd -nbB` when installed
 * (the file registry:2 users have), else from bcryptjs in the same `$2y$` form.
 */
export async function htpasswdLine(user: string, password: string): Promise<string> {
  if (which('htpasswd') !== undefined) {
    const result = await run('htpasswd', ['-nbB', user, password]);
    assert.equal(result.code, 0, `htpasswd -nbB: ${result.stderr}`);
    return result.stdout.trim();
  }
  const hashed = await hash(password, 10);
  return `${user}:${hashed.replace(/^\$2[abx]\$/, '$2y$')}`;
}
