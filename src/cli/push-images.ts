/**
 * `berth push-images IMAGE...`: the tutorials' push_images.sh (tag each local image for the
 * registry, push it), done properly. Each image is read from the local Docker Engine (or podman)
 * over its API socket as the `docker save` stream it exports, and pushed as it streams (nothing
 * kept on disk) under the same name: `ubuntu:latest` -> `127.0.0.1:5000/ubuntu:latest`. Layers
 * the registry has are skipped, those another image of the run pushed are mounted, and an
 * interrupted push, run again, continues its uploads where they stopped.
 */
import { parseCommandLine, UsageError } from './args.ts';
import type { CliIO, Command } from './command.ts';
import { json } from './table.ts';

const USAGE = `usage: berth push-images IMAGE... [--to HOST:PORT] [--namespace NAMESPACE]
                 [--creds USER:PASSWORD] [--insecure] [--json] [--quiet]

  Push images of the local Docker Engine (DOCKER_HOST, else /var/run/docker.sock, else podman's
  socket) to a registry, each under its own name: ubuntu:latest becomes HOST:PORT/ubuntu:latest
  (with --namespace alice, HOST:PORT/alice/ubuntu:latest).

  --to           the registry (default 127.0.0.1:5000; on 127.0.0.0/8 or localhost: plain HTTP)
  --namespace    put every image under this namespace
  --creds        the registry's credentials (else $BERTH_CREDS, else ~/.docker/config.json and its
                 helpers, then podman's auth.json)
  --insecure     plain HTTP (and no TLS check) for a registry that is not on this machine
  --json         print what was pushed as JSON (no progress)
  --quiet        no progress
`;

const OPTIONS = {
  to: { type: 'string' },
  namespace: { type: 'string' },
  creds: { type: 'string' },
  insecure: { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

/**
 * Where a local image goes: its repository path without a registry host (Docker Hub's `library/`
 * dropped, as the tutorial's `docker tag ubuntu 127.0.0.1:5000/ubuntu` does) and its tag.
 */
export function targetOf(image: string, namespace: string | undefined): { repository: string; tag: string } {
  if (image.includes('@')) throw new UsageError(`${image}: give a name:tag, not a digest (the pushed image is tagged with it)`);
  let name = image;
  let tag = 'latest';
  const colon = image.lastIndexOf(':');
  if (colon > image.lastIndexOf('/')) {
    name = image.slice(0, colon);
    tag = image.slice(colon + 1);
  }
  const parts = name.split('/');
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) parts.shift();
  if (parts.length > 1 && parts[0] === 'library') parts.shift();
  const repository = [...(namespace === undefined ? [] : [namespace]), ...parts].join('/').toLowerCase();
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository)) throw new UsageError(`${image}: ${repository} is not a repository name`);
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag)) throw new UsageError(`${image}: ${tag} is not a tag`);
  return { repository, tag };
}

export const pushImages: Command = {
  usage: USAGE,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandLine(argv, OPTIONS, ['IMAGE...']);
    if (positionals.length === 0) throw new UsageError('name at least one IMAGE');
    const to = values.to ?? '127.0.0.1:5000';
    if (!/^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9a-fA-F:]+\](:\d+)?$/.test(to)) throw new UsageError(`--to ${to}: expected HOST:PORT`);
    const targets = positionals.map((image) => ({ image, ...targetOf(image, values.namespace) }));
    const [{ DockerEngine, engineAddress }, { readDockerSave }, { openDestination }, { copySequential }, { copyProgress, silentProgress, human }] = await Promise.all([
      import('../copy/docker-engine.ts'),
      import('../copy/docker-archive.ts'),
      import('../copy/transports.ts'),
      import('../copy/sequential.ts'),
      import('../copy/progress.ts'),
    ]);
    const engine = new DockerEngine(engineAddress(io.env));
    // Every image is there before anything is pushed: a typo fails the command at once.
    for (const t of targets) await engine.inspect(t.image);
    const quiet = values.json === true || values.quiet === true;
    const mountable = new Map<string, string>();
    const pushed: Record<string, unknown>[] = [];
    const creds = values.creds ?? io.env['BERTH_CREDS'];
    for (const t of targets) {
      const destination = `docker://${to}/${t.repository}:${t.tag}`;
      const progress = quiet ? silentProgress : copyProgress(io.stderr);
      const started = Date.now();
      const dst = await openDestination(destination, { env: io.env, insecure: values.insecure === true, ...(creds !== undefined && { creds }) });
      try {
        progress.note(`${t.image} -> ${destination.slice('docker://'.length)}`);
        const src = readDockerSave(await engine.export(t.image), `${t.image} (docker save)`);
        try {
          const result = await copySequential(src, dst.destination, { tag: t.tag, mountable, observer: progress });
          progress.stop();
          const seconds = (Date.now() - started) / 1000;
          pushed.push({ image: t.image, pushed: destination.slice('docker://'.length), ...result, seconds });
          if (values.json !== true) io.stdout.write(`${t.image} -> ${destination.slice('docker://'.length)}@${result.digest} (${human(result.bytes)} sent, ${result.blobs.skipped + result.blobs.mounted} of ${result.blobs.copied + result.blobs.skipped + result.blobs.mounted} layers already there, ${seconds.toFixed(1)} s)\n`);
        } finally {
          progress.stop();
          await src.close();
        }
      } finally {
        await dst.destination.close();
      }
    }
    if (values.json === true) io.stdout.write(json(pushed));
    return 0;
  },
};
