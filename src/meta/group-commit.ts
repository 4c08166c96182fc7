/**
 * Group commit: writers that must wait for the same disk flush share it. A writer commits without
 * waiting for the disk, then calls sync(): if no flush is running it starts one at once (the first
 * waiter leads); writers that call while one is running join the next, which starts as soon as the
 * running one ends and covers them all. So N concurrent writers cost about two flushes, not N, and
 * each is acknowledged only after a flush that began after its write. The flush runs off the event
 * loop (the caller's flush function decides how: fdatasync on the thread pool), so nothing else
 * waits for the disk meanwhile.
 */

interface Batch {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function batch(): Batch {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export class GroupCommit {
  /** The writers waiting for the next flush (not yet started). */
  private waiting: Batch | undefined;
  private flushing = false;
  private count = 0;

  /** `flush` makes everything written before it was called durable. */
  constructor(private readonly flush: () => Promise<void>) {}

  /** Flushes started so far (metrics, tests). */
  get flushes(): number {
    return this.count;
  }

  /** Resolves once a flush that began after this call has completed: what the caller wrote is durable. */
  sync(): Promise<void> {
    const joined = (this.waiting ??= batch());
    if (!this.flushing) void this.run();
    return joined.promise;
  }

  private async run(): Promise<void> {
    this.flushing = true;
    try {
      for (let next = this.waiting; next !== undefined; next = this.waiting) {
        this.waiting = undefined;
        this.count++;
        try {
          await this.flush();
          next.resolve();
        } catch (err) {
          next.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
