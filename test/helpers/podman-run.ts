/**
 * A podman that runs containers, for tests of berth's own image: the podmanSandbox (vfs storage,
 * registries.conf, auth file of its own) plus a bridge network of its own, so port publishing
 * (`-p 127.0.0.1:PORT:5000`) works without touching the machine's `podman` network, and the
 * run flags this kind of machine needs:
 *
 * - runc when it is installed: crun refuses hybrid cgroup hierarchies ("cgroups in hybrid mode
 *   not supported"), which CI machines that are themselves containers often have;
 * - explicit rlimits: rootful podman raises nofile and nproc to ~1M by default, which fails
 *   without CAP_SYS_RESOURCE ("setrlimit RLIMIT_NOFILE: Operation not permitted"); the
 *   container gets this process's hard limits instead, capped.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { podmanSandbox, type PodmanSandbox } from './podman.ts';
import { run, runOk, which, type RunResult } from './process.ts';

export interface ContainerSandbox extends PodmanSandbox {
  /** Flags for `podman run`: the sandbox's network and the rlimits this machine allows. */
  runFlags: string[];
  /** Runs podman in the sandbox; throws with its output (and `context()`) unless it exits 0. */
  podman(...args: string[]): Promise<RunResult>;
  /** Removes every container, image and the network, and what podman left mounted under `work`. */
  cleanup(): Promise<void>;
}

/** The hard limit `name` (as /proc/self/limits spells it) of this process, capped at `cap`. */
async function hardLimit(name: string, cap: number): Promise<number> {
  const line = (await readFile('/proc/self/limits', 'utf8')).split('\n').find((l) => l.startsWith(name));
  const hard = line?.slice(name.length).trim().split(/\s+/)[1];
  return hard === undefined || hard === 'unlimited' ? cap : Math.min(cap, Number(hard));
}

/** Creates the sandbox under `work` for a registry at `registryHost` (host:port) and its network. */
export async function containerSandbox(work: string, registryHost: string, context?: () => string): Promise<ContainerSandbox> {
  const sandbox = await podmanSandbox(work, registryHost);
  const containersConf = join(work, 'containers-run.conf');
  const runtime = which('runc') !== undefined ? 'runtime = "runc"\n' : '';
  await writeFile(
    containersConf,
    `[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "none"\n${runtime}\n[network]\nnetwork_config_dir = "${join(work, 'networks')}"\n`,
  );
  const env = { ...sandbox.env, CONTAINERS_CONF: containersConf };
  const podman = (...args: string[]): Promise<RunResult> =>
    runOk('podman', [...sandbox.globals, ...args], { env, timeout: 300_000, ...(context && { context }) });
  // podman picks a subnet and a bridge name that no interface or route of the machine uses
  const network = `berth-test-${randomBytes(4).toString('hex')}`;
  await podman('network', 'create', '--disable-dns', network);
  const nofile = await hardLimit('Max open files', 65536);
  const nproc = await hardLimit('Max processes', 4096);
  return {
    ...sandbox,
    env,
    runFlags: ['--network', network, '--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', `nproc=${nproc}:${nproc}`],
    podman,
    async cleanup() {
      const quiet = (...args: string[]): Promise<RunResult> => run('podman', [...sandbox.globals, ...args], { env });
      await quiet('rm', '--all', '--force', '--time', '0');
      await quiet('rmi', '--all', '--force');
      await quiet('network', 'rm', '--force', network);
      const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').map((l) => l.split(' ')[1] ?? '');
      for (const target of mounts.filter((m) => m.startsWith(`${work}/`)).reverse()) await run('umount', ['-l', target]);
    },
  };
}
