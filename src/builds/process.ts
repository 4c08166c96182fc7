/**
 * Running the programs a build needs (git, buildah) as child processes of their own process
 * group, so that stopping one (a cancel, the timeout, berth's shutdown) stops everything it
 * started: SIGTERM to the group, SIGKILL after a grace. Their output goes to `onOutput` as it
 * comes (the build's log); the environment is only what the caller gives, never berth's own.
 *
 * A group must not outlive berth either, however berth ends (`kill -9`, a crash, the OOM killer):
 * a build left running would go on pushing with its token. So each group has a watchdog, a
 * shell reading a pipe whose other end only berth holds; the kernel closes it when berth is
 * gone, and the watchdog then kills its whole group. PR_SET_PDEATHSIG would stop only the
 * direct child, not the RUN steps buildah starts. The watchdog also ends the group once its
 * program has exited, so nothing the program left behind goes on running.
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';

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

/**
 * `sh -c WATCHDOG sh CMD ARGS...`: a background subshell waits for end of file on fd 3 (berth's
 * end of the pipe) and kills the group; the shell then execs the program without fd 3, so the
 * program's pid is the child's and its exit status is the child's.
 */
const WATCHDOG = '(cat <&3 >/dev/null 2>&1; kill -KILL 0) </dev/null >/dev/null 2>&1 &\nexec "$@" 3<&-';

export function runProcess(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const keep = opts.keep ?? 64 * 1024;
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted === true) {
      reject(opts.signal.reason instanceof Error ? opts.signal.reason : new Error('stopped'));
      return;
    }
    const child = spawn('/bin/sh', ['-c', WATCHDOG, 'sh', cmd, ...args], { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    const lifeline = child.stdio[3] as Socket;
    lifeline.on('error', () => undefined);
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
    // The program is done: the watchdog ends what it left behind (and itself).
    child.on('exit', () => lifeline.destroy());
    child.on('close', (code, signal) => {
      opts.signal?.removeEventListener('abort', stop);
      if (killTimer !== undefined) clearTimeout(killTimer);
      if (opts.signal?.aborted === true) reject(opts.signal.reason instanceof Error ? opts.signal.reason : new Error('stopped'));
      else resolve({ code, signal, output });
    });
  });
}
