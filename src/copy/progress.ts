/**
 * What `berth cp` and `berth push-images` show while they copy: on a terminal, a bar per blob in
 * flight and one for the whole (cli-progress); elsewhere (a pipe, a log, CI) a line when a blob
 * starts, ends or is tried again; nothing with --json or --quiet.
 */
import { createRequire } from 'node:module';
import type CliProgress from 'cli-progress';
import type { BlobOutcome, CopyObserver } from './engine.ts';
import type { BlobRef, ManifestBytes } from './transport.ts';

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** A copy's observer and the end of its display. */
export interface CopyProgress extends CopyObserver {
  /** A line of its own (an image starts, a summary). */
  note(line: string): void;
  /** Stop drawing (before the command prints its result). */
  stop(): void;
}

export function human(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${i === 0 ? value : value.toFixed(1)} ${units[i] ?? 'B'}`;
}

const short = (digest: string): string => digest.replace(/^sha256:/, '').slice(0, 12);

export const silentProgress: CopyProgress = { note: () => undefined, stop: () => undefined };

/** Bars on a TTY, lines otherwise. */
export function copyProgress(out: ProgressOutput): CopyProgress {
  return out.isTTY === true ? barProgress(out) : lineProgress(out);
}

export function lineProgress(out: ProgressOutput): CopyProgress {
  return {
    blobStart: (ref: BlobRef) => void out.write(`copying blob ${short(ref.digest)} (${human(ref.size)})\n`),
    blobDone: (ref: BlobRef, how: BlobOutcome) => void out.write(`${how === 'copied' ? 'copied' : how === 'mounted' ? 'mounted' : 'skipped (already there)'} blob ${short(ref.digest)}\n`),
    blobRetry: (ref: BlobRef, attempt: number, err: Error) => void out.write(`blob ${short(ref.digest)} failed (${err.message}); trying again (${attempt + 1})\n`),
    manifestDone: (m: ManifestBytes, tag: string | undefined) => void out.write(`${tag === undefined ? 'manifest' : `tag ${tag}:`} ${m.digest}\n`),
    note: (line: string) => void out.write(`${line}\n`),
    stop: () => undefined,
  };
}

/**
 * cli-progress is loaded only for bars, on a terminal: with its dependencies it costs about 7 MiB of
 * RSS, which a copy logging lines (a pipe, --quiet, replication) has no use for.
 */
function loadCliProgress(): typeof CliProgress {
  return createRequire(import.meta.url)('cli-progress') as typeof CliProgress;
}

function barProgress(out: ProgressOutput): CopyProgress {
  const cliProgress = loadCliProgress();
  const multi = new cliProgress.MultiBar(
    {
      stream: out as unknown as NodeJS.WritableStream,
      format: '{name} [{bar}] {percentage}% | {shown}',
      hideCursor: true,
      clearOnComplete: false,
      barsize: 30,
      autopadding: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const total = multi.create(0, 0, { name: 'total       ', shown: '' });
  let all = 0;
  let done = 0;
  const bars = new Map<string, { bar: CliProgress.SingleBar; sent: number }>();
  const showTotal = (): void => {
    total.setTotal(Math.max(all, 1));
    total.update(done, { shown: `${human(done)} of ${human(all)}` });
  };
  return {
    blobStart(ref) {
      all += ref.size;
      bars.set(ref.digest, { bar: multi.create(Math.max(ref.size, 1), 0, { name: short(ref.digest), shown: human(ref.size) }), sent: 0 });
      showTotal();
    },
    blobBytes(ref, n) {
      const b = bars.get(ref.digest);
      if (b === undefined) return;
      b.sent += n;
      b.bar.update(b.sent);
      done += n;
      showTotal();
    },
    blobDone(ref, how) {
      const b = bars.get(ref.digest);
      if (b !== undefined) {
        multi.remove(b.bar);
        bars.delete(ref.digest);
      }
      if (how !== 'copied') multi.log(`${how === 'mounted' ? 'mounted' : 'skipped (already there)'} blob ${short(ref.digest)}\n`);
    },
    blobRetry(ref, attempt, err) {
      multi.log(`blob ${short(ref.digest)} failed (${err.message}); trying again (${attempt + 1})\n`);
    },
    note: (line) => multi.log(`${line}\n`),
    stop: () => multi.stop(),
  };
}
