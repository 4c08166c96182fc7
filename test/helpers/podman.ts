/**
 * A podman of its own for interop tests: vfs storage under a temp --root/--runroot, a temp
 * registries.conf that marks the registry insecure, cgroupfs and no events, and an auth file of
 * its own (REGISTRY_AUTH_FILE), so nothing of the machine's podman is touched or used.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface PodmanSandbox {
  /** Environment for every podman command (config files, auth file, TMPDIR). */
  env: Record<string, string>;
  /** Global flags to put before every podman subcommand. */
  globals: string[];
  /** The auth file podman login writes and every command reads (starts empty). */
  authfile: string;
}

/** Creates the sandbox's directories and config files under `work` for a registry at `registryHost` (host:port). */
export async function podmanSandbox(work: string, registryHost: string): Promise<PodmanSandbox> {
  const root = join(work, 'root');
  const runroot = join(work, 'runroot');
  const tmp = join(work, 'tmp');
  await Promise.all([root, runroot, tmp].map((d) => mkdir(d, { recursive: true })));
  const registriesConf = join(work, 'registries.conf');
  await writeFile(registriesConf, `unqualified-search-registries = []\n\n[[registry]]\nlocation = "${registryHost}"\ninsecure = true\n`);
  const storageConf = join(work, 'storage.conf');
  await writeFile(storageConf, `[storage]\ndriver = "vfs"\nrunroot = "${runroot}"\ngraphroot = "${root}"\n`);
  const containersConf = join(work, 'containers.conf');
  await writeFile(containersConf, '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "none"\n');
  const authfile = join(work, 'auth.json');
  await writeFile(authfile, '{"auths":{}}\n');
  return {
    env: {
      CONTAINERS_REGISTRIES_CONF: registriesConf,
      CONTAINERS_STORAGE_CONF: storageConf,
      CONTAINERS_CONF: containersConf,
      REGISTRY_AUTH_FILE: authfile,
      TMPDIR: tmp,
    },
    globals: ['--root', root, '--runroot', runroot, '--tmpdir', tmp, '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'none'],
    authfile,
  };
}
