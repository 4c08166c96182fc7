/**
 * A child process a test kills -9 at a moment it observed: poll the child's effects, freeze it
 * (SIGSTOP, waiting until every thread of it has stopped, so nothing more happens), confirm the
 * state it is frozen in, then SIGKILL it there, or let it go on (SIGCONT) and look again. The
 * freeze is what makes the point exact: without it the child runs on between the look and the kill.
 * Linux only (/proc). Every child is bounded: killed after `timeoutMs` whatever happens.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { REPO_ROOT } from './process.ts';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Killable {
  pid: number;
  /** Settles when the child has exited (never rejects: a spawn error is an exit with code null). */
  exited: Promise<Exit>;
  running(): boolean;
  /** SIGSTOP, resolved once every thread of the child has stopped (or it has exited). */
  freeze(): Promise<void>;
  thaw(): void;
  /** The lowest priority (nice 19) for every thread of it, and those it starts after. */
  yieldToOthers(): void;
  /** SIGKILL, resolved with the exit. */
  kill(): Promise<Exit>;
}

export function spawnKillable(cmd: string, args: string[], opts: { env?: Record<string, string | undefined>; timeoutMs: number }): Killable {
  const env = Object.fromEntries(Object.entries({ ...process.env, ...opts.env }).filter((e): e is [string, string] => e[1] !== undefined));
  const child = spawn(cmd, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  let done = false;
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
  const exited = new Promise<Exit>((resolve) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null, extra = ''): void => {
      done = true;
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') + extra });
    };
    child.on('error', (e) => finish(null, null, e.message));
    child.on('close', (code, signal) => finish(code, signal));
  });
  const pid = child.pid ?? -1;
  return {
    pid,
    exited,
    running: () => !done,
    async freeze() {
      child.kill('SIGSTOP');
      // a stop takes microseconds, unless a thread finishes a system call first (then wait politely)
      for (let i = 0; i < 20 && !allStopped(pid); i++) sleepSync(0.1);
      for (const until = Date.now() + 5_000; !done && !allStopped(pid); ) {
        if (Date.now() > until) throw new Error(`process ${pid} did not stop within 5 s`);
        await delay(1);
      }
    },
    thaw() {
      child.kill('SIGCONT');
    },
    yieldToOthers() {
      // setpriority() on Linux sets one thread: each of them (new ones inherit from their creator)
      for (const tid of tasks(pid)) {
        try {
          os.setPriority(Number(tid), 19);
        } catch {
          // the thread ended
        }
      }
    },
    kill() {
      child.kill('SIGKILL');
      return exited;
    },
  };
}

/** The threads of `pid` (none once it is gone). */
function tasks(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
}

/** Whether every thread of `pid` is stopped (state T in /proc/PID/task/TID/stat), or the process is gone. */
function allStopped(pid: number): boolean {
  return tasks(pid).every((tid) => {
    try {
      // "pid (comm) S ...": the state follows the last ')' (comm may hold spaces and parentheses)
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return state === 'T' || state === 't' || state === 'Z' || state === 'X';
    } catch {
      return true; // the thread ended
    }
  });
}

/** Block this thread for `ms` (no callback of this process runs meanwhile). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Kill `child` -9 at the first moment `at.confirm` holds while it is frozen. Until `at.after` holds
 * (say when the part of its work that matters has begun) it is polled while the child runs; then
 * the child runs only in slices of `everyMs` between looks: thawed, this thread blocked for the
 * slice (so no other work of this process can stretch it), frozen, judged. This process's other
 * work (a server in it, the child's output) happens while the child is frozen. The child also runs
 * at the lowest priority then, so a busy machine slows it before this process. Throws if the child
 * exits on its own or `withinMs` passes first: a kill that could not land proves nothing.
 */
export async function killWhen(
  child: Killable,
  what: string,
  at: { after?: () => boolean | Promise<boolean>; confirm: () => boolean | Promise<boolean> },
  opts: { everyMs?: number; withinMs?: number } = {},
): Promise<Exit> {
  const every = opts.everyMs ?? 2;
  const within = opts.withinMs ?? 30_000;
  const until = Date.now() + within;
  let looks = 0;
  let slice = 0;
  const seen = (): string => `${looks} looks, the child ran at most ${slice} ms between two`;
  let stepping = false;
  while (child.running()) {
    if (Date.now() > until) {
      await child.kill();
      throw new Error(`${what}: not seen within ${within} ms (${seen()})`);
    }
    if (!stepping) {
      if ((await at.after?.()) === false) {
        await delay(every);
        continue;
      }
      stepping = true;
      child.yieldToOthers();
      await child.freeze();
    }
    // frozen here
    if (!child.running()) break;
    looks++;
    if (await at.confirm()) return child.kill();
    child.thaw();
    const thawed = Date.now();
    sleepSync(every);
    slice = Math.max(slice, Date.now() - thawed);
    await child.freeze(); // SIGSTOP sent before this thread does anything else
  }
  const exit = await child.exited;
  throw new Error(`${what}: the run ended first (exit ${exit.code ?? exit.signal}; ${seen()}): make its dataset bigger\n${exit.stdout.slice(0, 400)}\n${exit.stderr}`);
}
