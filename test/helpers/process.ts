/**
 * Helpers for tests that run real processes: the berth server on a free loopback port,
 * external clients (skopeo, podman, docker), and tool detection that skips locally but
 * fails under CI.
 *
 * BERTH_TEST_SERVER=distribution makes startBerth() start Docker distribution
 * (`docker-registry serve`) instead of berth, with the same environment, to compare the
 * behaviour of a client against the reference implementation. Tests always target berth
 * unless that variable is set by hand. BERTH_TEST_LOG_LEVEL (default warn) sets the server's
 * log level, e.g. debug to see every request in logs().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const IN_CI = process.env.CI === 'true';

export interface BerthProcess {
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT, for image references */
  host: string;
  port: number;
  root: string;
  pid: number;
  stop(): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
  logs(): string;
}

export interface StartOptions {
  root?: string;
  /** Extra environment; a variable set to undefined is removed. */
  env?: Record<string, string | undefined>;
  configFile?: string;
  /** How long to wait for the first answer on /v2/ (default 20 s). */
  readyTimeoutMs?: number;
  /** Run berth as this user of the machine (setpriv: no process between, signals reach berth itself); the root must be theirs. */
  user?: string;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A port that was free a moment ago on 127.0.0.1 (bind port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolvePort(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** A new directory under the system temp dir; its path is lowercase (image tools derive names from it). */
export async function tempDir(prefix: string): Promise<string> {
  const dir = join(tmpdir(), `berth-${prefix}-${randomBytes(6).toString('hex')}`.toLowerCase());
  await mkdir(dir, { mode: 0o700 });
  return dir;
}

/** Keeps the last `limit` characters of a stream of output. */
function collector(limit = 1 << 20): { add(chunk: Buffer): void; text(): string } {
  let text = '';
  return {
    add(chunk) {
      text += chunk.toString('utf8');
      if (text.length > limit) text = text.slice(text.length - limit);
    },
    text: () => text,
  };
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((done) => {
    const timer = setTimeout(() => done(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      done(true);
    });
  });
}

interface ServerCommand {
  cmd: string;
  args: string[];
  env: Record<string, string>;
  /** Files to remove on stop. */
  scratch: string[];
}

async function serverCommand(opts: StartOptions, root: string, port: number): Promise<ServerCommand> {
  const env = {
    REGISTRY_HTTP_ADDR: `127.0.0.1:${port}`,
    REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root,
    REGISTRY_LOG_LEVEL: process.env.BERTH_TEST_LOG_LEVEL ?? 'warn',
  };
  if (process.env.BERTH_TEST_SERVER === 'distribution') {
    let config = opts.configFile;
    const scratch: string[] = [];
    if (config === undefined) {
      config = join(tmpdir(), `berth-distribution-${port}.yml`);
      scratch.push(config);
      const yaml = `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${root}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`;
      await writeFile(config, yaml);
    }
    return { cmd: 'docker-registry', args: ['serve', config], env: { ...env, REGISTRY_STORAGE_DELETE_ENABLED: 'true' }, scratch };
  }
  // the command line's entry, on the sources (never a dist/ that may be older than them)
  const args = ['bin/berth.js', 'serve'];
  if (opts.configFile !== undefined) args.push('--config', opts.configFile);
  return { cmd: process.execPath, args, env: { ...env, BERTH_FROM_SOURCE: '1' }, scratch: [] };
}

/** Starts the registry server on a free loopback port and waits until GET /v2/ answers. */
export async function startBerth(opts: StartOptions = {}): Promise<BerthProcess> {
  const port = await freePort();
  const ownRoot = opts.root === undefined;
  const root = opts.root ?? (await tempDir('root'));
  const command = await serverCommand(opts, root, port);
  const { env, scratch } = command;
  const [cmd, args] = opts.user === undefined ? [command.cmd, command.args] : ['setpriv', ['--reuid', opts.user, '--regid', opts.user, '--init-groups', '--', command.cmd, ...command.args]];
  const out = collector();
  const child = spawn(cmd, args, {
    cwd: REPO_ROOT,
    env: Object.fromEntries(Object.entries({ ...process.env, ...env, ...opts.env }).filter(([, v]) => v !== undefined)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.stdout?.on('data', (c: Buffer) => out.add(c));
  child.stderr?.on('data', (c: Buffer) => out.add(c));
  let spawnError: Error | undefined;
  child.on('error', (err) => {
    spawnError = err;
  });
  child.on('exit', () => live.delete(child));

  let stopped: Promise<void> | undefined;
  const url = `http://127.0.0.1:${port}`;
  const server: BerthProcess = {
    url,
    host: `127.0.0.1:${port}`,
    port,
    root,
    pid: child.pid ?? -1,
    logs: () => out.text(),
    kill: (signal = 'SIGKILL') => {
      child.kill(signal);
    },
    stop: () => {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          if (!(await waitExit(child, 5000))) {
            child.kill('SIGKILL');
            await waitExit(child, 5000);
          }
        }
        for (const path of ownRoot ? [root, ...scratch] : scratch) await rm(path, { recursive: true, force: true });
      })();
      return stopped;
    },
  };

  const readyMs = opts.readyTimeoutMs ?? 20_000;
  const deadline = Date.now() + readyMs;
  for (;;) {
    if (spawnError !== undefined || child.exitCode !== null || child.signalCode !== null) {
      await server.stop();
      const why = spawnError?.message ?? `exited with ${child.exitCode ?? child.signalCode}`;
      throw new Error(`${cmd} ${args.join(' ')}: ${why}\n--- logs ---\n${out.text()}`);
    }
    try {
      await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`server on ${url} did not answer GET /v2/ within ${readyMs / 1000} s\n--- logs ---\n${out.text()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  input?: string;
  /** Milliseconds before SIGKILL (default 120 s). */
  timeout?: number;
  /** Extra text for runOk's error, such as the server's logs. */
  context?: () => string;
}

/** Runs a command to completion; never throws for a non-zero exit (see runOk). */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? REPO_ROOT,
      env: { ...process.env, ...opts.env },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    live.add(child);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => stdout.push(c));
    child.stderr?.on('data', (c: Buffer) => stderr.push(c));
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      live.delete(child);
      fail(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      const text = { stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
      done({ code: code ?? (signal === null ? null : 128), ...text });
    });
  });
}

/** Runs a command and throws with its full output unless it exits 0. */
export async function runOk(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const result = await run(cmd, args, opts);
  if (result.code !== 0) {
    const extra = opts.context === undefined ? '' : `\n${opts.context()}`;
    throw new Error(`\`${cmd} ${args.join(' ')}\` exited ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}${extra}`);
  }
  return result;
}

/** The absolute path of an executable on PATH, or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Tool gate for a suite: `skip` is a reason when a tool is missing outside CI (pass it
 * to describe's `skip`); under CI=true it is false and `check()` (call it in before())
 * throws, so the suite fails instead of skipping.
 */
export function requireTools(...names: string[]): { skip: string | false; check(): void } {
  const missing = names.filter((n) => which(n) === undefined);
  const reason = missing.length === 0 ? false : `${missing.join(', ')} not installed`;
  if (reason !== false && !IN_CI) console.log(`# skipping: ${reason}`);
  return {
    skip: IN_CI ? false : reason,
    check() {
      if (reason !== false) throw new Error(`${reason} (required under CI=true; .ci/run installs it)`);
    },
  };
}

/** HEAD a manifest; returns status, Docker-Content-Digest and Content-Type. */
export async function headManifest(server: { url: string }, repo: string, ref: string): Promise<{ status: number; digest: string | null; mediaType: string | null }> {
  const accept = [
    'application/vnd.oci.image.index.v1+json',
    'application/vnd.oci.image.manifest.v1+json',
    'application/vnd.docker.distribution.manifest.list.v2+json',
    'application/vnd.docker.distribution.manifest.v2+json',
  ].join(', ');
  const res = await fetch(`${server.url}/v2/${repo}/manifests/${ref}`, { method: 'HEAD', headers: { accept } });
  return { status: res.status, digest: res.headers.get('docker-content-digest'), mediaType: res.headers.get('content-type') };
}
