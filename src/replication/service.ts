/**
 * Replication put together: the configured rules, their triggers, and their runs.
 *
 * - By hand (API, CLI): a run now; refused (409) while the rule runs (here or on another node).
 * - On a schedule (cron, UTC): every node keeps the timers, and the run store lets one of them run
 *   each firing (the others find the rule running and skip it).
 * - On push (push rules with `trigger.onpush`): a tag pushed here that the rule's filters take is
 *   copied to the remote at once, in a run of its own (scoped to that repository:tag).
 *
 * A run records its progress as it goes (ReplicationStore.progress, which also holds its lease)
 * and ends with a `replication.completed` notification and metrics.
 */
import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { ReplicationRule } from '../config/replication-schema.ts';
import { globMatches } from '../registry/glob.ts';
import { ReplicationBusyError, ReplicationRuleUnknownError } from './errors.ts';
import type { ReplicationRun, ReplicationStore, RunCounts, RunFailure, RunTrigger } from './model.ts';
import { runRule, type RunOutcome } from './run.ts';
import type { Side } from './sides.ts';

export interface ReplicationDeps {
  rules: readonly ReplicationRule[];
  store: ReplicationStore;
  /** This node (run leases). */
  node: string;
  /** berth's own end, bound to the replication's cause (its events name berth-replication). */
  local: () => Side;
  /** The rule's remote end: a client of its own per run. */
  remote: (rule: ReplicationRule) => Side;
  log: Logger;
  /** A run ended: its notification and metrics. */
  ended?: (rule: ReplicationRule, run: ReplicationRun) => Promise<void>;
  now?: () => number;
  /** How long a run's lease holds without progress (renewed as it goes). */
  leaseMs?: number;
}

/** A rule as the API and the CLI show it: never its password. */
export interface RuleView {
  name: string;
  direction: 'pull' | 'push';
  remote: { url: string; username: string | null; insecure: boolean };
  remoteprefix: string | null;
  filters: { repositories: string[]; tags: string[] };
  trigger: { schedule: string | null; onpush: boolean; next: string | null };
  deletes: boolean;
}

/** Progress is written at most this often (and when the run ends). */
const PROGRESS_MS = 1000;

export class Replication {
  private readonly now: () => number;
  private readonly leaseMs: number;
  private readonly crons: Cron[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(private readonly deps: ReplicationDeps) {
    this.now = deps.now ?? Date.now;
    this.leaseMs = deps.leaseMs ?? 60_000;
  }

  /** Start the schedules. */
  start(): void {
    for (const rule of this.deps.rules) {
      const schedule = rule.trigger.schedule;
      if (schedule === undefined) continue;
      this.crons.push(
        new Cron(schedule, { timezone: 'UTC', protect: true }, () => {
          this.trigger(rule.name, 'schedule').catch((err: unknown) => {
            if (err instanceof ReplicationBusyError) this.deps.log.info({ rule: rule.name }, 'replication: a scheduled run was skipped: the rule runs already');
            else this.deps.log.error({ err, rule: rule.name }, 'replication: a scheduled run did not start');
          });
        }),
      );
    }
  }

  /** Stop the schedules, stop the runs (their leases run out; they end as interrupted), wait for them. */
  async stop(): Promise<void> {
    for (const c of this.crons) c.stop();
    this.abort.abort(new Error('berth is stopping'));
    await Promise.allSettled([...this.running]);
  }

  private rule(name: string): ReplicationRule {
    const rule = this.deps.rules.find((r) => r.name === name);
    if (rule === undefined) throw new ReplicationRuleUnknownError(name);
    return rule;
  }

  views(): RuleView[] {
    return this.deps.rules.map((r) => {
      const next = r.trigger.schedule === undefined ? null : new Cron(r.trigger.schedule, { timezone: 'UTC' }).nextRun(new Date(this.now()));
      return {
        name: r.name,
        direction: r.direction,
        remote: { url: r.remote.url, username: r.remote.username ?? null, insecure: r.remote.insecure },
        remoteprefix: r.remoteprefix ?? null,
        filters: { repositories: [...r.filters.repositories], tags: [...r.filters.tags] },
        trigger: { schedule: r.trigger.schedule ?? null, onpush: r.trigger.onpush, next: next?.toISOString() ?? null },
        deletes: r.deletes,
      };
    });
  }

  async latest(): Promise<Map<string, ReplicationRun>> {
    return this.deps.store.latest(this.deps.rules.map((r) => r.name));
  }

  async runs(name: string, opts: { limit?: number; before?: number } = {}): Promise<ReplicationRun[]> {
    this.rule(name);
    return this.deps.store.list(name, opts);
  }

  /**
   * Start a run of rule `name` and answer it as started; it goes on in the background (`done`
   * resolves when it ended). ReplicationBusyError while the rule runs.
   */
  async trigger(name: string, trigger: RunTrigger = 'manual', only?: { repository: string; tag: string }): Promise<ReplicationRun & { done: Promise<void> }> {
    const rule = this.rule(name);
    const started = await this.deps.store.start({ rule: name, trigger, scope: only === undefined ? null : `${only.repository}:${only.tag}`, node: this.deps.node }, this.now(), this.now() + this.leaseMs);
    if (started === undefined) throw new ReplicationBusyError(name);
    const done = this.execute(rule, started, only).finally(() => this.running.delete(done));
    this.running.add(done);
    return { ...started, done };
  }

  /** A tag was pushed here: each push rule copying on push that takes it copies it now. */
  pushed(repository: string, tag: string | undefined): void {
    if (tag === undefined) return;
    for (const rule of this.deps.rules) {
      if (rule.direction !== 'push' || !rule.trigger.onpush) continue;
      if (!rule.filters.repositories.some((p) => globMatches(p, repository)) || !rule.filters.tags.some((p) => globMatches(p, tag))) continue;
      this.trigger(rule.name, 'onpush', { repository, tag }).catch((err: unknown) => this.deps.log.error({ err, rule: rule.name, repository, tag }, 'replication: a copy on push did not start'));
    }
  }

  private async execute(rule: ReplicationRule, run: ReplicationRun, only: { repository: string; tag: string } | undefined): Promise<void> {
    const { store, node, log } = this.deps;
    const local = this.deps.local();
    const remote = this.deps.remote(rule);
    let last = 0;
    let outcome: RunOutcome;
    try {
      outcome = await runRule({
        rule,
        from: rule.direction === 'pull' ? remote : local,
        to: rule.direction === 'pull' ? local : remote,
        ...(only !== undefined && { only }),
        signal: this.abort.signal,
        progress: async (counts: RunCounts, failures: RunFailure[]) => {
          if (this.now() - last < PROGRESS_MS) return;
          last = this.now();
          if (!(await store.progress(run.id, node, counts, failures, this.now() + this.leaseMs))) throw new Error('the run was taken over (its lease ran out)');
        },
      });
    } catch (err) {
      outcome = { status: 'failed', counts: { ...run.counts }, failures: [{ what: rule.name, reason: err instanceof Error ? err.message : String(err) }] };
    } finally {
      await Promise.allSettled([local.close(), remote.close()]);
    }
    log.info({ rule: rule.name, run: run.id, status: outcome.status, ...outcome.counts }, 'replication run ended');
    if (!(await store.finish(run.id, node, outcome.status, outcome.counts, outcome.failures, this.now()).catch(() => false))) return;
    const ended = await store.get(run.id);
    if (ended !== undefined) await this.deps.ended?.(rule, ended).catch((err: unknown) => log.error({ err, rule: rule.name }, 'replication: the completion event failed'));
  }
}
