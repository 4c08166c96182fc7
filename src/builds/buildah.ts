/**
 * The builder: Debian's buildah, `buildah build` with vfs storage and chroot isolation in the
 * build's own directory (its image store is removed with it), then `buildah push` into berth.
 * Base images come from berth itself: a registries.conf of the build's own maps docker.io to
 * berth's address, so `FROM debian` pulls berth's library/debian (its mirror's, when configured)
 * and a build needs no internet. Credentials for berth go in a 0600 auth file, never argv; build
 * arguments go in buildah's environment (`--build-arg NAME` takes the value from there), where
 * other users' and other builds' processes cannot read them (/proc/PID/environ is its owner's,
 * and a RUN step lacks the capabilities to read buildah's), not on a command line anyone sees.
 *
 * Isolation: chroot keeps a RUN step in the image's root filesystem, without namespaces or a
 * seccomp profile; run as root it is not a sandbox against a hostile Dockerfile. Run berth (and so
 * buildah) as an unprivileged user where rule authors are not trusted (docs/builds.md).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { baseEnv, runProcess } from './process.ts';
import { NO_SANDBOX, type Sandbox } from './sandbox.ts';

export interface BuildJob {
  /** The build's own directory: the source is in `src/`, the rest is the builder's. */
  dir: string;
  /** The context's and the Dockerfile's paths inside the source. */
  context: string;
  dockerfile: string;
  buildArgs: Record<string, string>;
  /** Where berth listens for the builder, `host:port`. */
  registry: string;
  /** `registry/repository:tag`. */
  image: string;
  /** Credentials for berth, when access control is on. */
  auth?: { username: string; password: string };
  signal: AbortSignal;
  onOutput: (text: string) => void;
}

export interface Builder {
  /** Build and push; returns the pushed manifest's digest. */
  build(job: BuildJob): Promise<string>;
}

export class BuilderError extends Error {
  readonly code = 'BERTH_BUILD_FAILED';
}

/** `inner` resolved against `root`, refused when it leaves `root` (a path or a symlink pointing out). */
export async function insideSource(root: string, inner: string, what: string): Promise<string> {
  const real = await fs.realpath(root);
  let target: string;
  try {
    target = await fs.realpath(path.resolve(real, inner));
  } catch {
    throw new BuilderError(`the ${what} ${JSON.stringify(inner)} is not in the repository`);
  }
  if (target !== real && !target.startsWith(real + path.sep)) throw new BuilderError(`the ${what} ${JSON.stringify(inner)} points outside the repository`);
  return target;
}

/**
 * Names a build argument may not have: with the arguments in buildah's environment, these would
 * change what buildah, Go's runtime or the containers libraries do (where they store, whose
 * credentials they use, what they load), not what the Dockerfile sees.
 */
const RESERVED_ARG =
  /^(PATH|HOME|TMPDIR|TMP|TEMP|LANG|LANGUAGE|SHELL|IFS|ENV|BASH_ENV|DOCKER_CONFIG|SSL_CERT_FILE|SSL_CERT_DIR|GODEBUG|GOGC|GOMAXPROCS|GOMEMLIMIT|GOTRACEBACK|NOTIFY_SOCKET|GLIBC_TUNABLES|GCONV_PATH|LOCPATH|NLSPATH|HOSTALIASES|RES_OPTIONS|LOCALDOMAIN|TZDIR|NO_PROXY|no_proxy)$|^(_?CONTAINERS_|_?BUILDAH_|STORAGE_|REGISTRY_|XDG_|LD_|LC_|DBUS_|MALLOC_)/;

/** Why `name` cannot be a build argument's name, or undefined. */
export function buildArgProblem(name: string): string | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name)) return `the build argument name ${JSON.stringify(name.slice(0, 130))} is not a name`;
  if (RESERVED_ARG.test(name)) return `the build argument name ${name} is reserved: the builder reads it from its environment`;
  return undefined;
}

function registriesConf(registry: string): string {
  return [
    'unqualified-search-registries = ["docker.io"]',
    '',
    '[[registry]]',
    'prefix = "docker.io"',
    `location = "${registry}"`,
    'insecure = true',
    '',
    '[[registry]]',
    `location = "${registry}"`,
    'insecure = true',
    '',
  ].join('\n');
}

export class BuildahBuilder implements Builder {
  constructor(
    private readonly sandbox: Sandbox = NO_SANDBOX,
    private readonly bin = 'buildah',
  ) {}

  async build(job: BuildJob): Promise<string> {
    const src = path.join(job.dir, 'src');
    const context = await insideSource(src, job.context, 'context');
    const dockerfile = await insideSource(context, job.dockerfile, 'Dockerfile');
    const tmp = path.join(job.dir, 'tmp');
    await this.sandbox.dir(tmp);
    await this.sandbox.file(path.join(job.dir, 'registries.conf'), registriesConf(job.registry));
    const authFile = path.join(job.dir, 'auth.json');
    const auths = job.auth === undefined ? {} : { [job.registry]: { auth: Buffer.from(`${job.auth.username}:${job.auth.password}`).toString('base64') } };
    await this.sandbox.file(authFile, JSON.stringify({ auths }));
    for (const name of Object.keys(job.buildArgs)) {
      const problem = buildArgProblem(name);
      if (problem !== undefined) throw new BuilderError(problem);
    }
    const env = baseEnv({
      ...job.buildArgs,
      HOME: job.dir,
      TMPDIR: tmp,
      CONTAINERS_REGISTRIES_CONF: path.join(job.dir, 'registries.conf'),
      REGISTRY_AUTH_FILE: authFile,
      BUILDAH_ISOLATION: 'chroot',
      // A build argument HTTP_PROXY must not send the pushes (and their token) through a proxy.
      NO_PROXY: job.registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''),
      STORAGE_DRIVER: 'vfs',
    });
    const storage = ['--root', path.join(job.dir, 'store'), '--runroot', path.join(job.dir, 'run'), '--storage-driver', 'vfs'];
    const args = ['build', '--isolation', 'chroot', '--pull', '-f', dockerfile, '-t', job.image];
    for (const name of Object.keys(job.buildArgs)) args.push('--build-arg', name);
    args.push(context);
    const run = async (what: string, argv: string[]): Promise<void> => {
      const { cmd, args: sandboxed } = this.sandbox.command(this.bin, [...storage, ...argv]);
      const r = await runProcess(cmd, sandboxed, { cwd: job.dir, env, signal: job.signal, onOutput: job.onOutput, keep: 4096 });
      if (r.code !== 0) throw new BuilderError(`${what} failed (exit ${r.code ?? r.signal})`);
    };
    await run('buildah build', args);
    const digestFile = path.join(job.dir, 'digest');
    await run('buildah push', ['push', '--digestfile', digestFile, job.image]);
    const digest = (await fs.readFile(digestFile, 'utf8')).trim();
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new BuilderError(`buildah push wrote no digest (${JSON.stringify(digest.slice(0, 80))})`);
    return digest;
  }
}
