/**
 * Live followers of running builds' logs on this node: one poller per followed build, shared by
 * everyone who follows it. It reads the store (where a build running on any node writes its log)
 * every interval while someone follows, hands each follower the chunks it has not had, and stops
 * when the last follower leaves or the build ends (then its followers get the final build).
 *
 * Bounded against hostile followers: at most `total` followers on the node and `perBuild` per
 * build (refused beyond, never queued), and a follower whose client does not take what it is sent
 * is dropped once more than `maxUnsent` bytes wait for it. A follower holds no chunks here: only
 * its place in the log (the next `seq` it needs) and what its own connection buffers.
 * No HTTP in here: the API (http/handlers/api-builds.ts) gives each follower a LogSink.
 */
import { FINAL_STATUSES, type Build, type BuildStore, type LogChunk } from './model.ts';

export interface FollowerLimits {
  /** How often a followed build's log is read (ms). */
  intervalMs: number;
  /** Live followers on this node, over every build. */
  total: number;
  /** Live followers of one build on this node. */
  perBuild: number;
  /** Bytes written to a follower and not yet taken by its client beyond which it is dropped. */
  maxUnsent: number;
}

export const FOLLOWER_LIMITS: Readonly<FollowerLimits> = Object.freeze({
  // A build may run on another node: the store is where its log and its followers meet.
  intervalMs: 200,
  // Each follower is an open connection holding up to maxUnsent (more only while its first read,
  // at most builds.logsize, goes out): 200 bound that to a few hundred MiB in the worst case, and
  // are far more people than watch the builds of one registry at once.
  total: 200,
  // One build's viewers: a team watching a release. A per-build cap keeps one anonymous reader of
  // a public repository from taking every slot of the node with a single build.
  perBuild: 20,
  // A live log arrives a few KiB at a time: a client 1 MiB behind is not reading it, and holding
  // more for it is memory an attacker chooses.
  maxUnsent: 1024 * 1024,
});

/** Where a follower's chunks go (an HTTP response, in the API). Called only from the poller, never during follow(). */
export interface LogSink {
  /** Chunks the follower has not had, in `seq` order. */
  send(chunks: readonly LogChunk[]): void;
  /** The build ended: the last thing the follower gets. */
  end(build: Build): void;
  /** Bytes sent and not yet taken by the client. */
  unsent(): number;
  /**
   * Cut off: 'slow', more than maxUnsent waits for the client; 'gone', the build (or the connection)
   * is no longer there; 'stopping', berth stops. Release everything.
   */
  drop(reason: DropReason): void;
}

export type DropReason = 'slow' | 'gone' | 'stopping';

/** A follower, once admitted. */
export interface Following {
  /** Settles when the follower is done: the build ended, it was dropped, or it left. */
  readonly done: Promise<void>;
  /** The client went away (idempotent). */
  leave(): void;
}

/** Why a follower was not admitted. */
export interface Refusal {
  refused: 'node' | 'build' | 'stopping';
  /** The cap that was reached (0 when stopping). */
  limit: number;
}

/** Run `fn` in `ms`; returns a cancel. Tests inject their own to fire ticks by hand. */
export type Schedule = (fn: () => Promise<void>, ms: number) => () => void;

const realSchedule: Schedule = (fn, ms) => {
  const timer = setTimeout(() => void fn(), ms);
  timer.unref();
  return () => clearTimeout(timer);
};

export interface LogFollowersOptions {
  limits?: Partial<FollowerLimits>;
  schedule?: Schedule;
  /** A read of the store failed (the poller tries again at its next tick). */
  onError?: (err: unknown, buildId: number) => void;
}

interface Follower {
  /** The next `seq` this follower needs. */
  next: number;
  /** Bytes waiting for its client at the previous tick (Infinity before the first). */
  unsent: number;
  readonly sink: LogSink;
  readonly settle: () => void;
}

interface Poller {
  readonly id: number;
  readonly repository: string;
  readonly followers: Set<Follower>;
  cancel: (() => void) | undefined;
  reading: boolean;
  /** A read failed and was reported: the next failures in a row are not. */
  failing: boolean;
}

export class LogFollowers {
  private readonly pollers = new Map<number, Poller>();
  private readonly limits: FollowerLimits;
  private readonly schedule: Schedule;
  private count = 0;
  private closed = false;

  constructor(
    private readonly store: Pick<BuildStore, 'get' | 'readLog'>,
    private readonly options: LogFollowersOptions = {},
  ) {
    this.limits = { ...FOLLOWER_LIMITS, ...options.limits };
    this.schedule = options.schedule ?? realSchedule;
  }

  /**
   * Follow a running build from `next` (the first `seq` the follower has not had: it got the
   * earlier ones with the read that found the build). Synchronous: admitted or refused at once,
   * and nothing is sent to `sink` before this returns.
   */
  follow(build: Pick<Build, 'id' | 'repository'>, next: number, sink: LogSink): Following | Refusal {
    if (this.closed) return { refused: 'stopping', limit: 0 };
    if (this.count >= this.limits.total) return { refused: 'node', limit: this.limits.total };
    let poller = this.pollers.get(build.id);
    if (poller !== undefined && poller.followers.size >= this.limits.perBuild) return { refused: 'build', limit: this.limits.perBuild };
    if (poller === undefined) {
      poller = { id: build.id, repository: build.repository, followers: new Set(), cancel: undefined, reading: false, failing: false };
      this.pollers.set(build.id, poller);
    }
    let settle!: () => void;
    const done = new Promise<void>((resolve) => (settle = resolve));
    const follower: Follower = { next, unsent: Infinity, sink, settle };
    poller.followers.add(follower);
    this.count++;
    if (poller.cancel === undefined && !poller.reading) this.arm(poller);
    const p = poller;
    return { done, leave: () => this.remove(p, follower) };
  }

  /** Followed builds and their followers on this node now. */
  stats(): { builds: number; followers: number } {
    return { builds: this.pollers.size, followers: this.count };
  }

  /** Berth stops: every poller stops, every follower is dropped, and no new one is admitted. */
  close(): void {
    this.closed = true;
    for (const poller of [...this.pollers.values()]) {
      poller.cancel?.();
      poller.cancel = undefined;
      for (const f of [...poller.followers]) this.drop(poller, f, 'stopping');
    }
    this.pollers.clear();
  }

  private arm(poller: Poller): void {
    poller.cancel = this.schedule(() => this.tick(poller), this.limits.intervalMs);
  }

  private remove(poller: Poller, follower: Follower): void {
    if (!poller.followers.delete(follower)) return;
    this.count--;
    follower.settle();
    if (poller.followers.size === 0 && !poller.reading) this.retire(poller);
  }

  /** No one follows the build any more: stop polling it. */
  private retire(poller: Poller): void {
    poller.cancel?.();
    poller.cancel = undefined;
    if (this.pollers.get(poller.id) === poller) this.pollers.delete(poller.id);
  }

  private drop(poller: Poller, follower: Follower, reason: DropReason): void {
    this.remove(poller, follower);
    try {
      follower.sink.drop(reason);
    } catch {
      // a connection already gone: nothing is left to release
    }
  }

  /** One read for every follower of the build, then each gets what it lacks. Never rejects. */
  private async tick(poller: Poller): Promise<void> {
    poller.cancel = undefined;
    if (poller.followers.size === 0 || this.closed) return this.retire(poller);
    let from = Infinity;
    for (const f of poller.followers) from = Math.min(from, f.next);
    const read = await this.read(poller, from);
    if (this.closed) return;
    if (read === 'gone') {
      for (const f of [...poller.followers]) this.drop(poller, f, 'gone');
    } else if (read !== undefined) {
      const ended = FINAL_STATUSES.has(read.build.status) ? read.build : undefined;
      for (const f of [...poller.followers]) this.deliver(poller, f, from, read.chunks, ended);
    }
    if (poller.followers.size === 0) this.retire(poller);
    else this.arm(poller);
  }

  /** The build and its chunks from `from`; 'gone' when the build is no longer there, undefined when the store failed. */
  private async read(poller: Poller, from: number): Promise<{ build: Build; chunks: LogChunk[] } | 'gone' | undefined> {
    poller.reading = true;
    try {
      const build = await this.store.get(poller.repository, poller.id);
      if (build === undefined) return 'gone';
      let chunks = await this.store.readLog(poller.id, from);
      // it ended meanwhile: its last chunks were stored before its status, read them all once more
      if (FINAL_STATUSES.has(build.status)) chunks = await this.store.readLog(poller.id, from);
      poller.failing = false;
      return { build, chunks };
    } catch (err) {
      if (!poller.failing) this.options.onError?.(err, poller.id);
      poller.failing = true;
      return undefined;
    } finally {
      poller.reading = false;
    }
  }

  /**
   * Hand `follower` the chunks of a read from `from` it has not had. A follower that joined during
   * the read needing earlier chunks than it covers waits for the next tick (which reads from its place).
   */
  private deliver(poller: Poller, follower: Follower, from: number, chunks: readonly LogChunk[], ended: Build | undefined): void {
    if (follower.next < from) return;
    // Over the bound and no less than at the last tick: its client is not reading. One still taking
    // a first read larger than the bound (a log of up to builds.logsize, more as events) is not cut off.
    const unsent = follower.sink.unsent();
    if (unsent > this.limits.maxUnsent && unsent >= follower.unsent) return this.drop(poller, follower, 'slow');
    follower.unsent = unsent;
    const fresh = chunks.filter((c) => c.seq >= follower.next);
    const last = fresh.at(-1);
    try {
      if (last !== undefined) {
        follower.sink.send(fresh);
        follower.next = last.seq + 1;
      }
      if (ended !== undefined) {
        follower.sink.end(ended);
        this.remove(poller, follower);
      }
    } catch {
      this.drop(poller, follower, 'gone');
    }
  }
}
