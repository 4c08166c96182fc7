/**
 * podman's Docker-compatible API service for interop tests: `podman system service --time=0` on a
 * socket under `work`, on a podmanSandbox (vfs storage under temp --root/--runroot, its own
 * config files), so nothing of the machine's podman is touched or used.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PodmanSandbox } from './podman.ts';

export interface PodmanService {
  /** unix://`work`/podman.sock */
  dockerHost: string;
  socketPath: string;
  /** The service's output so far (its log file), for failure messages. */
  log(): Promise<string>;
  stop(): Promise<void>;
}

/** GET `path` over the socket: the status, or undefined when nothing answers. */
function get(socketPath: string, path: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path, headers: { host: 'd' }, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

function exitOf(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

/** Starts the service (its log in `work`/podman-service.log) and waits until `GET /_ping` answers. */
export async function startPodmanService(work: string, sandbox: PodmanSandbox): Promise<PodmanService> {
  const socketPath = join(work, 'podman.sock');
  const logFile = join(work, 'podman-service.log');
  const fd = openSync(logFile, 'a');
  const child = spawn('podman', [...sandbox.globals, 'system', 'service', '--time=0', `unix://${socketPath}`], {
    env: { ...process.env, ...sandbox.env },
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  // should this test process die first, take the service with it
  const onExit = (): void => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', onExit);
  const exited = exitOf(child);
  const service: PodmanService = {
    dockerHost: `unix://${socketPath}`,
    socketPath,
    log: () => readFile(logFile, 'utf8').catch(() => ''),
    async stop() {
      process.off('exit', onExit);
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // exited meanwhile
        }
        let timer: NodeJS.Timeout | undefined;
        const late = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), 10_000)))]);
        clearTimeout(timer);
        if (late) onExit();
        await exited;
      }
    },
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && child.exitCode === null) {
    if ((await get(socketPath, '/_ping')) === 200) return service;
    await new Promise((r) => setTimeout(r, 100));
  }
  await service.stop();
  throw new Error(`podman system service did not answer on ${socketPath} (exit ${child.exitCode})\n--- its log ---\n${(await service.log()).slice(-6000)}`);
}
