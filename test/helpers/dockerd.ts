/**
 * A private Docker engine for interop tests: dockerd with vfs storage, no iptables and no bridge,
 * its own data-root, exec-root, pidfile and socket under a temp directory, and a CLI config
 * directory of its own (DOCKER_CONFIG), so nothing of the machine's docker is touched or used.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './process.ts';

export interface Daemon {
  child: ChildProcess;
  /** DOCKER_HOST (the daemon's socket) and DOCKER_CONFIG (`work`/cli) for the docker CLI. */
  env: Record<string, string>;
  /** Kills dockerd's group should this test process exit first; removed once dockerd is stopped. */
  onExit: () => void;
}

/**
 * Starts dockerd under `work` (its log in `work`/dockerd.log) and waits until it answers.
 * `daemonJson` is written to its daemon.json (e.g. `{ "registry-mirrors": [...] }`).
 */
export async function startDockerd(work: string, insecure: string, daemonJson: Record<string, unknown> = {}): Promise<Daemon> {
  const sock = join(work, 'docker.sock');
  const log = join(work, 'dockerd.log');
  const configFile = join(work, 'daemon.json');
  await writeFile(configFile, `${JSON.stringify(daemonJson)}\n`);
  const fd = openSync(log, 'a');
  const child = spawn(
    'dockerd',
    ['--config-file', configFile, '--iptables=false', '--ip6tables=false', '--bridge=none', '--storage-driver=vfs',
      '--data-root', join(work, 'data'), '--exec-root', join(work, 'exec'), '--pidfile', join(work, 'dockerd.pid'),
      '-H', `unix://${sock}`, '--insecure-registry', insecure],
    { detached: true, stdio: ['ignore', fd, fd] },
  );
  closeSync(fd);
  // should this test process die first, take dockerd with it
  const onExit = (): void => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) signalGroupSync(child.pid, 'SIGKILL');
  };
  process.on('exit', onExit);
  const env = { DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(work, 'cli') };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if ((await run('docker', ['version', '--format', '{{.Server.Version}}'], { env, timeout: 10_000 })).code === 0) return { child, env, onExit };
    await new Promise((r) => setTimeout(r, 250));
  }
  const text = await readFile(log, 'utf8').catch(() => '');
  await stopDockerd({ child, env, onExit }, work);
  throw new Error(`dockerd did not start (exit ${child.exitCode})\n--- dockerd log ---\n${text.slice(-6000)}`);
}

/** The warnings and errors of dockerd's log under `work`, the last `lines` of them. */
export function dockerdWarnings(work: string, lines = 30): string {
  let text = '';
  try {
    text = readFileSync(join(work, 'dockerd.log'), 'utf8');
  } catch {
    // no log yet
  }
  return text
    .split('\n')
    .filter((l) => /level=(warn|error)/.test(l))
    .slice(-lines)
    .join('\n');
}

function signalGroupSync(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Pids of processes whose command line mentions `dir` (dockerd's containerd runs in a group of its own). */
async function processesUnder(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir)) pids.push(Number(entry));
  }
  return pids;
}

/** Stops dockerd and what it started under `work`, and unmounts what it left mounted there. */
export async function stopDockerd(daemon: Daemon, work: string): Promise<void> {
  const { child } = daemon;
  process.off('exit', daemon.onExit);
  const exited = new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
  const signalGroup = (signal: NodeJS.Signals): void => {
    if (child.pid !== undefined) signalGroupSync(child.pid, signal);
  };
  signalGroup('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), 20_000)))]);
  clearTimeout(timer);
  if (timedOut) {
    signalGroup('SIGKILL');
    await exited;
  }
  for (const pid of await processesUnder(work)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').map((l) => l.split(' ')[1] ?? '');
  for (const target of mounts.filter((m) => m.startsWith(`${work}/`)).reverse()) {
    await run('umount', ['-l', target]);
  }
}
