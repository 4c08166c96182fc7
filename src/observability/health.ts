/**
 * Liveness and readiness. live() is the process answering at all; ready() runs every check
 * (storage writable, meta store reachable, later upstreams) in parallel and reports each with
 * its latency. A check may be periodic, as distribution's `health.storagedriver` makes the
 * storage check: it then runs in the background every interval and counts as failing only after
 * `threshold` consecutive failures, and ready() reports its latest state instead of running it.
 *
 * Every run is bounded by a timeout (2 s by default), so a hung disk makes /readyz answer 503
 * rather than hang; a check still in flight is joined, never started twice, so a hung backend
 * does not pile up one stuck operation per probe.
 */
import { randomBytes } from 'node:crypto';
import type { MetaStore } from '../meta/store.ts';
import { PathNotFoundError, type StorageDriver } from '../storage/driver.ts';

export interface HealthCheck {
  readonly name: string;
  /** Resolves when healthy, rejects with the reason otherwise. */
  run(): Promise<void>;
  /** Run in the background instead of on demand. */
  readonly periodic?: PeriodicOptions;
}

export interface PeriodicOptions {
  intervalMs: number;
  /** Consecutive failures before the check counts as failing (at least 1). */
  threshold: number;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  error?: string;
  latencyMs: number;
}

export interface Readiness {
  ok: boolean;
  checks: CheckResult[];
}

export const DEFAULT_CHECK_TIMEOUT_MS = 2_000;

export interface StorageCheckOptions {
  periodic?: PeriodicOptions;
  /**
   * The registry runs read-only (storage.maintenance.readonly), perhaps on a read-only mount:
   * check that storage can be listed instead of writing to it (distribution's check, a stat of /).
   */
  readOnly?: boolean;
}

/** Storage accepts a write and reads it back: put, get and delete a small file under /_health. */
export function storageCheck(driver: StorageDriver, opts: StorageCheckOptions = {}): HealthCheck {
  return {
    name: 'storage',
    periodic: opts.periodic,
    async run() {
      if (opts.readOnly === true) {
        await driver.list('/').catch((err: unknown) => {
          if (!(err instanceof PathNotFoundError)) throw err; // an empty, not yet created root is fine
        });
        return;
      }
      const path = `/_health/${randomBytes(8).toString('hex')}`;
      const content = randomBytes(16);
      await driver.putContent(path, content);
      try {
        const read = await driver.getContent(path);
        if (!read.equals(content)) throw new Error(`${path} read back different bytes`);
      } finally {
        await driver.delete(path);
      }
    },
  };
}

/** The meta store answers a trivial query. */
export function metaCheck(meta: Pick<MetaStore, 'ping'>): HealthCheck {
  return { name: 'meta', run: () => meta.ping() };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A periodic check's state: its last run's result and how many runs in a row failed. */
interface PeriodicState {
  last?: CheckResult;
  failures: number;
}

export class HealthChecker {
  private readonly inFlight = new Map<HealthCheck, Promise<void>>();
  private readonly periodic = new Map<HealthCheck, PeriodicState>();
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly checks: readonly HealthCheck[],
    private readonly timeoutMs: number = DEFAULT_CHECK_TIMEOUT_MS,
  ) {
    for (const check of checks) if (check.periodic !== undefined) this.periodic.set(check, { failures: 0 });
  }

  /** The process is up (it answered); nothing is checked. */
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  async ready(): Promise<Readiness> {
    const checks = await Promise.all(this.checks.map((check) => this.periodic.get(check)?.last ?? this.measure(check)));
    return { ok: checks.every((c) => c.ok), checks };
  }

  /** Start the periodic checks: a first round now, then each every its interval. Idempotent. */
  start(): void {
    if (this.timers.length > 0) return;
    for (const [check, state] of this.periodic) {
      const tick = (): void => void this.runPeriodic(check, state);
      tick();
      const timer = setInterval(tick, check.periodic?.intervalMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  stop(): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
  }

  /** One background round: run every periodic check once, as the timers do. */
  async poll(): Promise<void> {
    await Promise.all([...this.periodic].map(([check, state]) => this.runPeriodic(check, state)));
  }

  private async runPeriodic(check: HealthCheck, state: PeriodicState): Promise<void> {
    const result = await this.measure(check);
    state.failures = result.ok ? 0 : state.failures + 1;
    const failing = state.failures >= Math.max(1, check.periodic?.threshold ?? 1);
    // Below the threshold a failure is not reported yet: the check still counts as ok.
    state.last = result.ok || failing ? result : { name: result.name, ok: true, latencyMs: result.latencyMs };
  }

  /** Run a check (joining one in flight) within the timeout. */
  private async measure(check: HealthCheck): Promise<CheckResult> {
    const start = performance.now();
    let running = this.inFlight.get(check);
    if (running === undefined) {
      running = check.run().finally(() => this.inFlight.delete(check));
      this.inFlight.set(check, running);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      await Promise.race([running, timeout]);
      return { name: check.name, ok: true, latencyMs: elapsed(start) };
    } catch (err) {
      return { name: check.name, ok: false, error: errorMessage(err), latencyMs: elapsed(start) };
    } finally {
      clearTimeout(timer);
    }
  }
}

function elapsed(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}
