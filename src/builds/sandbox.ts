/**
 * What a build's programs (git, buildah) run inside, besides their process group (process.ts):
 *
 * - A PID namespace of their own, when berth runs as root (`unshare --pid --fork --kill-child
 *   --mount-proc`): when the build's first process ends, the kernel ends every process in it,
 *   so a RUN step that leaves its group (`setsid`) or kills the watchdog still ends with the build.
 *   Its /proc shows only the build's own processes.
 * - Another account (`builds.user`), when berth runs as root: the programs run as that user
 *   (`setpriv`), so buildah runs rootless in a user namespace of that user's subordinate ids, and a
 *   RUN step that gets out of its chroot is that user, who cannot read berth's data directory,
 *   keys or database. The build's directory and the files berth writes for it are handed to it.
 *
 * Without root neither is possible: the programs run as berth, in their process group only.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';

export interface BuildIdentity {
  name: string;
  uid: number;
  gid: number;
}

/** The account `name` (builds.user) as ids; throws with the reason when there is none. */
export function resolveBuildUser(name: string): BuildIdentity {
  try {
    const uid = Number(execFileSync('id', ['-u', '--', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim());
    const gid = Number(execFileSync('id', ['-g', '--', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim());
    if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(gid)) throw new Error('no ids');
    return { name, uid, gid };
  } catch {
    throw new Error(`builds.user: there is no user ${JSON.stringify(name)} on this machine`);
  }
}

export class Sandbox {
  /** `identity`: builds.user's account; `namespaces`: a PID namespace per program (root only). */
  constructor(
    readonly identity: BuildIdentity | undefined,
    private readonly namespaces: boolean,
  ) {}

  /** As berth runs: root gets a PID namespace per program, and builds.user when configured. */
  static forProcess(user: string | undefined): Sandbox {
    const root = process.getuid?.() === 0;
    if (user !== undefined && !root) throw new Error('builds.user: berth must run as root to run builds as another user (or leave builds.user out)');
    return new Sandbox(user === undefined ? undefined : resolveBuildUser(user), root);
  }

  /** The command line that runs `cmd args` in the sandbox. */
  command(cmd: string, args: readonly string[]): { cmd: string; args: string[] } {
    const inner = this.identity === undefined ? [cmd, ...args] : ['setpriv', `--reuid=${this.identity.uid}`, `--regid=${this.identity.gid}`, '--init-groups', '--', cmd, ...args];
    if (!this.namespaces) return { cmd: inner[0] ?? cmd, args: inner.slice(1) };
    return { cmd: 'unshare', args: ['--pid', '--fork', '--kill-child', '--mount-proc', '--', ...inner] };
  }

  /** builds.workdir: made if absent; the build's account may pass through it to its own directories (0711), not list it. */
  async workdir(dir: string): Promise<void> {
    await fs.mkdir(dir, { recursive: true, mode: 0o711 });
    if (this.identity !== undefined) await fs.chmod(dir, 0o711);
  }

  /** Make `dir` (mode 0700) and give it to the build's account. */
  async dir(dir: string): Promise<void> {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await this.own(dir);
  }

  /** Write a file of berth's for the build (mode 0600), the build's account's. */
  async file(file: string, content: string): Promise<void> {
    await fs.writeFile(file, content, { mode: 0o600 });
    await this.own(file);
  }

  private async own(p: string): Promise<void> {
    if (this.identity !== undefined) await fs.chown(p, this.identity.uid, this.identity.gid);
  }
}

/** No isolation beyond the process group (tests of the parts, and berth without root). */
export const NO_SANDBOX = new Sandbox(undefined, false);
