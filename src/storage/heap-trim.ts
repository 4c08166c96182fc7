/**
 * Give the C heap's free pages back to the kernel once a burst of bulk transfers is over.
 *
 * Node copies every request body into fresh 64 KiB buffers malloc'ed outside V8's heap. When the
 * garbage collector frees them, glibc keeps the pages for reuse: after 32 concurrent 64 MiB pushes
 * the server's RSS stayed at 244 MiB, of which 130 MiB were free heap (malloc_trim brought it to
 * 113 MiB). A trimmed heap costs the next transfer a page fault per 4 KiB it allocates anew: a
 * 256 MiB push right after a trim took about 10% longer (6 interleaved runs). So the heap is
 * trimmed only after a burst of at least BURST transfers at once (one transfer churns a few MiB,
 * not worth it), once none has run for IDLE_MS (back-to-back transfers keep their pages).
 */
import { createRequire } from 'node:module';

/** A burst is over when no transfer has run for this long. */
const IDLE_MS = 10_000;
/** Transfers at once that make a burst worth trimming after. */
const BURST = 4;

function loadTrim(): (() => boolean) | undefined {
  try {
    // From src/storage or dist/storage alike, the addon is two levels up.
    const addon = createRequire(import.meta.url)('../../native/build/Release/berth_aligned.node') as { trimFreeMemory?: () => boolean };
    return addon.trimFreeMemory;
  } catch {
    return undefined;
  }
}

const trim = loadTrim();
let running = 0;
/** The most transfers at once since the last trim. */
let peak = 0;
let timer: NodeJS.Timeout | undefined;
let trims = 0;

/** A bulk transfer (a request body being stored) begins. */
export function transferStarted(): void {
  running++;
  peak = Math.max(peak, running);
  if (timer !== undefined) {
    clearTimeout(timer);
    timer = undefined;
  }
}

/** A bulk transfer ended: when it was the last of a burst, trim after IDLE_MS unless another begins. */
export function transferEnded(): void {
  running = Math.max(0, running - 1);
  if (running > 0 || peak < BURST || trim === undefined || timer !== undefined) return;
  timer = setTimeout(() => {
    timer = undefined;
    if (running === 0) {
      trims++;
      peak = 0;
      trim();
    }
  }, IDLE_MS);
  timer.unref();
}

/** How many times the heap was trimmed (for tests). */
export function heapTrims(): number {
  return trims;
}

/** Whether trimming is possible here (the addon is built). */
export const heapTrimAvailable = trim !== undefined;
