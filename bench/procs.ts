// Child process bookkeeping: every process the bench starts is tracked here and
// stopped at the end, on error, and on SIGINT/SIGTERM. Also temp dirs and /proc RSS.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Last few KiB of stdout+stderr, for error messages. */
  tail: () => string;
  exited: () => boolean;
  /** Resolves with the exit code once the process exited and its stdout/stderr closed. */
  closed: Promise<number | null>;
}

const procs = new Set<Proc>();
const tempDirs = new Set<string>();

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function startProc(
  name: string,
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Proc {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${cmd})`);
  let buf = '';
  let done = false;
  const keep = (chunk: Buffer): void => {
    buf = (buf + chunk.toString('utf8')).slice(-8192);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('exit', () => {
    done = true;
  });
  child.on('error', (err) => {
    done = true;
    keep(Buffer.from(`\n[spawn error] ${err.message}\n`));
  });
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const proc: Proc = { name, child, pid: child.pid, tail: () => buf, exited: () => done, closed };
  procs.add(proc);
  child.on('exit', () => procs.delete(proc));
  return proc;
}

/** Resolve with the promise's value, or 'timeout' after ms (the timer is always cleared). */
export async function raceTimeout<T>(p: PromiseLike<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** SIGTERM, wait up to graceMs, then SIGKILL. */
export async function stopProc(proc: Proc, graceMs = 5000): Promise<void> {
  if (proc.exited()) return;
  const exited = new Promise<void>((resolve) => proc.child.once('exit', () => resolve()));
  proc.child.kill('SIGTERM');
  const r = await raceTimeout(exited, graceMs);
  if (r === 'timeout' && !proc.exited()) {
    proc.child.kill('SIGKILL');
    await raceTimeout(exited, 2000);
  }
  procs.delete(proc);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...procs].map((p) => stopProc(p)));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Last-resort synchronous cleanup (process 'exit' handler). */
function killAllSync(): void {
  for (const p of procs) {
    if (!p.exited()) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  procs.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

let handlersInstalled = false;
export function installCleanupHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      console.error(`\n[bench] ${sig}: stopping servers and removing temp dirs`);
      const hard = setTimeout(() => process.exit(130), 8000);
      hard.unref();
      void stopAll().finally(() => process.exit(130));
    });
  }
}

// ---- memory (/proc) -------------------------------------------------------

function statusKiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m?.[1] ? Number.parseInt(m[1], 10) : 0;
  } catch {
    return 0;
  }
}

/** Peak RSS (VmHWM) in bytes of this one process since start or the last resetPeakRss. */
export function peakRssBytes(pid: number): number {
  return statusKiB(pid, 'VmHWM') * 1024;
}

export function currentRssBytes(pid: number): number {
  return statusKiB(pid, 'VmRSS') * 1024;
}

/** Reset VmHWM to the current RSS (Linux >= 4.0, writing 5 to clear_refs). Returns false if not permitted. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Run a bench entry point when `moduleUrl` is the script node was started with (always, without
 * one): stop every process it started, then exit 0, or 1 with the error printed.
 */
export function runMain(main: () => Promise<void>, moduleUrl?: string): void {
  if (moduleUrl !== undefined && (process.argv[1] === undefined || moduleUrl !== pathToFileURL(process.argv[1]).href)) return;
  main()
    .then(async () => {
      await stopAll();
      process.exit(0);
    })
    .catch(async (err: unknown) => {
      console.error(err);
      await stopAll();
      process.exit(1);
    });
}
