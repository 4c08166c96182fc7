/**
 * Running the programs a build needs (git, buildah) as child processes of their own process
 * group, so that stopping one (a cancel, the timeout, berth's shutdown) stops everything it
 * started: SIGTERM to the group, SIGKILL after a grace. Their output goes to `onOutput` as it
 * comes (the build's log); the environment is only what the caller gives, never berth's own.
 */
import { spawn } from 'node:child_process';

export interface RunOptions {
  cwd: string;
  /** The whole environment of the child (PATH included). */
  env: Record<string, string>;
  /** Output as it comes, stdout and stderr interleaved. */
  onOutput?: (text: string) => void;
  /** Stops the process group when aborted; the run then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Bytes of output kept for the result (the tail); default 64 KiB. */
  keep?: number;
  /** Bytes written to the child's stdin, then closed. */
  input?: string;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last `keep` bytes of output. */
  output: string;
}

/** Grace between SIGTERM and SIGKILL of a stopped process group. */
const KILL_GRACE_MS = 5_000;

/** The environment a build's programs get: a PATH, a locale, and whatever the caller adds. */
export function baseEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', ...extra };
}

export function runProcess(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const keep = opts.keep ?? 64 * 1024;
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted === true) {
      reject(opts.signal.reason instanceof Error ? opts.signal.reason : new Error('stopped'));
      return;
    }
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let killTimer: NodeJS.Timeout | undefined;
    const take = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-keep);
      opts.onOutput?.(text);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const stop = (): void => {
      const pid = child.pid;
      if (pid === undefined) return;
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        return; // already gone
      }
      killTimer = setTimeout(() => {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }, KILL_GRACE_MS);
      killTimer.unref();
    };
    opts.signal?.addEventListener('abort', stop, { once: true });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
    child.on('error', (err) => {
      opts.signal?.removeEventListener('abort', stop);
      reject(err);
    });
    child.on('close', (code, signal) => {
      opts.signal?.removeEventListener('abort', stop);
      if (killTimer !== undefined) clearTimeout(killTimer);
      if (opts.signal?.aborted === true) reject(opts.signal.reason instanceof Error ? opts.signal.reason : new Error('stopped'));
      else resolve({ code, signal, output });
    });
  });
}
