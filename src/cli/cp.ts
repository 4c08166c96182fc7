/**
 * `berth cp SRC DST`: copy an image (or with --all, every image of an index) between registries,
 * OCI layouts and archives (src/copy/), digests unchanged; or many at once from a file of
 * `SRC DST` lines. Runs on any machine: it needs no configuration, only the places it copies.
 */
import fs from 'node:fs/promises';
import { parseCommandLine, UsageError } from './args.ts';
import type { CliIO, Command } from './command.ts';
import { json } from './table.ts';
import { parseSize } from '../config/size.ts';

const USAGE = `usage: berth cp SRC DST [--all] [--parallel N] [--limit-rate SIZE] [--creds USER:PASSWORD]
                 [--src-creds USER:PASSWORD] [--dest-creds USER:PASSWORD] [--insecure] [--json] [--quiet]
       berth cp --from-file FILE [same options]

  Copy an image, as it is (its digest does not change), from SRC to DST. Each is one of:
    docker://HOST/REPO[:TAG|@DIGEST]   a registry (HOST on 127.0.0.0/8 or localhost: plain HTTP)
    oci:DIR[:REF]                      an OCI image layout directory
    oci-archive:FILE[:REF]             a tar of an OCI image layout
    docker-archive:FILE[:NAME:TAG]     the tar of docker save (docker load reads what berth writes)

  --all          copy every image of an index (else the one for this machine, as docker pull does)
  --from-file    copy each line's "SRC DST" (blank lines and # comments skipped); carries on past
                 a failure, and exits 1 if any failed
  --parallel     blobs sent at once (default 4)
  --limit-rate   bytes a second for all of them together (50MiB, 10MB); the --from-file copies share it
  --creds        credentials for both registries; --src-creds and --dest-creds for one side. Else
                 $BERTH_CREDS, $BERTH_SRC_CREDS, $BERTH_DEST_CREDS (out of the process list), else
                 ~/.docker/config.json and its helpers, then podman's auth.json ($REGISTRY_AUTH_FILE alone when set)
  --insecure     plain HTTP (and no TLS check) for registries that are not on this machine
  --json         print a summary per image as JSON (no progress)
  --quiet        no progress

  Blobs the destination has are skipped; on the same registry they are mounted; an interrupted
  copy, run again, continues each blob's upload where it stopped.
`;

const OPTIONS = {
  all: { type: 'boolean' },
  'from-file': { type: 'string' },
  parallel: { type: 'string' },
  'limit-rate': { type: 'string' },
  creds: { type: 'string' },
  'src-creds': { type: 'string' },
  'dest-creds': { type: 'string' },
  insecure: { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

/** The pairs to copy: the command line's, or the file's lines. */
async function pairs(positionals: string[], file: string | undefined): Promise<[string, string][]> {
  if (file === undefined) {
    if (positionals.length !== 2) throw new UsageError('give SRC and DST (or --from-file FILE)');
    return [[positionals[0] ?? '', positionals[1] ?? '']];
  }
  if (positionals.length !== 0) throw new UsageError('give SRC DST or --from-file, not both');
  const out: [string, string][] = [];
  const lines = (await fs.readFile(file, 'utf8')).split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const words = line.split(/\s+/);
    if (words.length !== 2) throw new UsageError(`${file}:${i + 1}: expected "SRC DST", got ${JSON.stringify(line.slice(0, 200))}`);
    out.push([words[0] ?? '', words[1] ?? '']);
  });
  if (out.length === 0) throw new UsageError(`${file} names no image to copy`);
  return out;
}

export const cp: Command = {
  usage: USAGE,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandLine(argv, OPTIONS, ['SRC DST...']);
    const parallel = values.parallel === undefined ? 4 : Number(values.parallel);
    if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) throw new UsageError('--parallel is a number from 1 to 64');
    let rateBytes: number | undefined;
    if (values['limit-rate'] !== undefined) {
      try {
        rateBytes = parseSize(values['limit-rate']);
      } catch (err) {
        throw new UsageError(`--limit-rate: ${(err as Error).message}`);
      }
      if (rateBytes < 1024) throw new UsageError('--limit-rate is at least 1KiB (a second)');
    }
    const todo = await pairs(positionals, values['from-file']);
    const [{ copyImage }, { openSource, openDestination }, { copyProgress, silentProgress, human }, { RateLimit }] = await Promise.all([
      import('../copy/engine.ts'),
      import('../copy/transports.ts'),
      import('../copy/progress.ts'),
      import('../copy/rate.ts'),
    ]);
    const rate = rateBytes === undefined ? undefined : new RateLimit(rateBytes);
    const quiet = values.json === true || values.quiet === true;
    const common = { env: io.env, insecure: values.insecure === true };
    // options first, then the environment (kept out of the process list): BERTH_SRC_CREDS, BERTH_DEST_CREDS, BERTH_CREDS
    const srcCreds = values['src-creds'] ?? values.creds ?? io.env['BERTH_SRC_CREDS'] ?? io.env['BERTH_CREDS'];
    const destCreds = values['dest-creds'] ?? values.creds ?? io.env['BERTH_DEST_CREDS'] ?? io.env['BERTH_CREDS'];
    const summaries: Record<string, unknown>[] = [];
    let failed = 0;
    for (const [from, to] of todo) {
      const progress = quiet ? silentProgress : copyProgress(io.stderr);
      const started = Date.now();
      try {
        const src = await openSource(from, { ...common, ...(srcCreds !== undefined && { creds: srcCreds }) });
        try {
          const dst = await openDestination(to, { ...common, ...(destCreds !== undefined && { creds: destCreds }), sourceTag: src.tag });
          try {
            progress.note(`${src.source.description} -> ${dst.destination.description}`);
            const result = await copyImage(src.source, dst.destination, { all: values.all === true, ...(dst.tag !== undefined && { tag: dst.tag }), parallel, observer: progress, ...(rate !== undefined && { rate }) });
            progress.stop();
            const seconds = (Date.now() - started) / 1000;
            summaries.push({ source: from, destination: to, ...result, seconds });
            if (values.json !== true) {
              io.stdout.write(`${to}: ${result.digest} (${result.images} image${result.images === 1 ? '' : 's'}; blobs ${result.blobs.copied} copied, ${result.blobs.skipped} skipped, ${result.blobs.mounted} mounted; ${human(result.bytes)} in ${seconds.toFixed(1)} s)\n`);
            }
          } finally {
            await dst.destination.close();
          }
        } finally {
          await src.source.close();
        }
      } catch (err) {
        progress.stop();
        failed++;
        const message = err instanceof Error ? err.message : String(err);
        summaries.push({ source: from, destination: to, error: message });
        // One image alone: its failure is the command's (one line on stderr, exit 1).
        if (todo.length === 1) throw err;
        io.stderr.write(`${from} -> ${to}: ${message}\n`);
      }
    }
    if (values.json === true) io.stdout.write(json(todo.length === 1 ? summaries[0] : summaries));
    if (todo.length > 1 && values.json !== true) io.stdout.write(`${todo.length - failed} of ${todo.length} copied\n`);
    return failed === 0 ? 0 : 1;
  },
};
