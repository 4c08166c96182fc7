/**
 * Progress of `berth migrate`, one phase at a time (blobs, tables, keys, verify): a bar per phase
 * on a terminal (cli-progress), plain lines elsewhere (a log, CI: at the start, about every 10%
 * and at the end of a phase), or nothing at all (tests, --json on a pipe).
 */
import cliProgress from 'cli-progress';

export interface PhaseProgress {
  /** `n` more units done. */
  tick(n: number): void;
  /** The phase is over. */
  done(): void;
}

export interface Progress {
  /** Start a phase of `total` units (bytes, rows, blobs: named by `unit`). */
  phase(name: string, total: number, unit: string): PhaseProgress;
  /** A line of its own (a warning, a skipped table). */
  note(line: string): void;
}

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

export const silentProgress: Progress = {
  phase: () => ({ tick: () => undefined, done: () => undefined }),
  note: () => undefined,
};

/** Bars on a TTY, lines otherwise. */
export function progressOn(out: ProgressOutput): Progress {
  return out.isTTY === true ? barProgress(out) : lineProgress(out);
}

function human(n: number, unit: string): string {
  if (unit !== 'bytes') return `${n} ${unit}`;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${i === 0 ? value : value.toFixed(1)} ${units[i] ?? 'B'}`;
}

/** Plain lines: the phase's start, each tenth done, its end. */
export function lineProgress(out: ProgressOutput): Progress {
  return {
    phase(name, total, unit) {
      out.write(`${name}: ${human(total, unit)}\n`);
      let done = 0;
      let shown = 0;
      return {
        tick(n) {
          done += n;
          const tenth = total === 0 ? 10 : Math.floor((done * 10) / total);
          if (tenth > shown && tenth < 10) {
            shown = tenth;
            out.write(`${name}: ${tenth * 10}% (${human(done, unit)} of ${human(total, unit)})\n`);
          }
        },
        done: () => void out.write(`${name}: done\n`),
      };
    },
    note: (line) => void out.write(`${line}\n`),
  };
}

function barProgress(out: ProgressOutput): Progress {
  const stream = out as unknown as NodeJS.WritableStream;
  return {
    phase(name, total, unit) {
      const bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${name.padEnd(8)} [{bar}] {percentage}% | {shown} of {all}`,
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
      let done = 0;
      bar.start(Math.max(total, 1), 0, { shown: human(0, unit), all: human(total, unit) });
      return {
        tick(n) {
          done += n;
          bar.update(Math.min(done, Math.max(total, 1)), { shown: human(done, unit) });
        },
        done() {
          bar.update(Math.max(total, 1), { shown: human(done, unit) });
          bar.stop();
        },
      };
    },
    note: (line) => void out.write(`${line}\n`),
  };
}
