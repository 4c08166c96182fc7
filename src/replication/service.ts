/**
 * Replication put together: the rules (the config's and the API's, rule-book.ts), their triggers,
 * and their runs.
 *
 * - By hand (API, CLI): a run now; refused (409) while the rule runs (here or on another node).
 * - On a schedule (cron, UTC): every node keeps the timers, and the run store lets one of them run
 *   each firing (the others find the rule running and skip it).
 * - On push (push rules with `trigger.onpush`): a tag pushed here that the rule's filters take is
 *   copied to the remote at once, in a run of its own (scoped to that repository:tag). With
 *   `deletes` too, a tag deleted here is deleted there at once (an `ondelete` run of that tag), and
 *   a manifest deleted here by digest (which takes its tags along) brings a run of its repository,
 *   which deletes there the tags gone here.
 *
 * A run records its progress as it goes (ReplicationStore.progress, which also holds its lease)
 * and ends with a `replication.completed` notification and metrics.
 *
 * Rules made or changed on another node (or by the CLI) are read every RELOAD_MS, and their
 * schedules follow; a change made here is in force at once.
 */
import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { ReplicationRule } from '../config/replication-schema.ts';
import { globMatches } from '../registry/glob.ts';
import { ReplicationBusyError, ReplicationRuleUnusableError } from './errors.ts';
import { RUNS_KEPT, type ReplicationRun, type ReplicationStore, type RunCounts, type RunFailure, type RunTrigger } from './model.ts';
import type { RuleBook, RuleEntry } from './rule-book.ts';
import { runRule, type RunOutcome } from './run.ts';
import type { Side } from './sides.ts';

export interface ReplicationDeps {
  /** The rules in force, the config's and the API's. */
  book: RuleBook;
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
  /** How often the stored rules are read again (changes made on other nodes). */
  reloadMs?: number;
  /** How soon a full run after too many pushes, refused while the rule ran, is tried again. */
  retryMs?: number;
}

/** A rule as the API and the CLI show it: never its password. */
export interface RuleView {
  name: string;
  /** `config`: the configuration file's (changed there); `api`: made through the API or the CLI. */
  source: 'config' | 'api';
  createdBy: string | null;
  created: string | null;
  updated: string | null;
  /** Why the rule cannot run (its kept password does not open), or null. */
  problem: string | null;
  direction: 'pull' | 'push';
  /** `password`: whether one is kept (it is never shown). */
  remote: { url: string; username: string | null; password: boolean; insecure: boolean };
  remoteprefix: string | null;
  /** `platforms`: null for every platform. */
  filters: { repositories: string[]; tags: string[]; platforms: string[] | null };
  trigger: { schedule: string | null; onpush: boolean; next: string | null };
  deletes: boolean;
  parallel: number;
  concurrency: number;
  /** Bytes a second, or null for no limit. */
  bandwidth: number | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** What a run after a push or a delete covers: one repository, or one tag of it. */
type Scope = { repository: string; tag?: string | undefined };

/** A rule's pushes and deletes waiting for their run, by scope (repository[:tag]). */
interface FollowQueue {
  scopes: Map<string, { trigger: 'onpush' | 'ondelete'; only: Scope }>;
  /** More came than twice MAX_FOLLOWS_QUEUED: a full run instead. */
  overflow: boolean;
  draining: boolean;
}

/** Scopes a rule's queue holds before its repositories (then a full run) take their place. */
const MAX_FOLLOWS_QUEUED = 1000;
/** How soon a full run that found the rule running is tried again. */
const FULL_RUN_RETRY_MS = 10_000;

/** Whether a rule follows pushes (and deletes) here: a usable push rule with onpush. */
const follows = ({ rule, problem }: Pick<RuleEntry, 'rule' | 'problem'>): boolean => problem === null && rule.direction === 'push' && rule.trigger.onpush;

/** Progress is written at most this often (and when the run ends). */
const PROGRESS_MS = 1000;
/** How often each node reads the stored rules again. */
const RELOAD_MS = 15_000;

export class Replication {
  private readonly now: () => number;
  private readonly leaseMs: number;
  /** Each scheduled rule's timer, with the schedule it was made for. */
  private readonly crons = new Map<string, { schedule: string; cron: Cron }>();
  private reloader: NodeJS.Timeout | undefined;
  private readonly running = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  /** The runs of each rule going on here, to stop them when the rule is deleted. */
  private readonly stoppers = new Map<string, Set<AbortController>>();
  /** Each rule's pushes and deletes to follow, one run at a time (follow, drain). */
  private readonly follows = new Map<string, FollowQueue>();

  constructor(private readonly deps: ReplicationDeps) {
    this.now = deps.now ?? Date.now;
    this.leaseMs = deps.leaseMs ?? 60_000;
  }

  /** Read the rules, start their schedules, and read them again every reloadMs. */
  async start(): Promise<void> {
    this.reloader = setInterval(() => {
      this.reload().catch((err: unknown) => this.deps.log.error({ err }, 'replication: the rules could not be read again'));
    }, this.deps.reloadMs ?? RELOAD_MS);
    this.reloader.unref();
    await this.reload();
  }

  /** Stop the schedules, stop the runs (their leases run out; they end as interrupted), wait for them. */
  async stop(): Promise<void> {
    if (this.reloader !== undefined) clearInterval(this.reloader);
    for (const { cron } of this.crons.values()) cron.stop();
    this.crons.clear();
    this.abort.abort(new Error('berth is stopping'));
    await Promise.allSettled([...this.running]);
  }

  /** Read the rules again and make the schedules follow them. */
  async reload(): Promise<void> {
    this.schedule(await this.deps.book.load());
  }

  private schedule(entries: readonly RuleEntry[]): void {
    const names = new Set(entries.map((e) => e.rule.name));
    for (const name of this.stoppers.keys()) if (!names.has(name)) this.stopRuns(name, 'its rule was deleted');
    for (const name of this.follows.keys()) if (!names.has(name)) this.follows.delete(name);
    // only a started service keeps timers (the CLI's reads and changes keep none)
    if (this.reloader === undefined || this.abort.signal.aborted) return;
    const wanted = new Map<string, string>();
    for (const { rule, problem } of entries) if (rule.trigger.schedule !== undefined && problem === null) wanted.set(rule.name, rule.trigger.schedule);
    for (const [name, timer] of this.crons) {
      if (wanted.get(name) === timer.schedule) continue;
      timer.cron.stop();
      this.crons.delete(name);
    }
    for (const [name, schedule] of wanted) {
      if (this.crons.has(name)) continue;
      const cron = new Cron(schedule, { timezone: 'UTC', protect: true }, () => {
        this.trigger(name, 'schedule').catch((err: unknown) => {
          if (err instanceof ReplicationBusyError) this.deps.log.info({ rule: name }, 'replication: a scheduled run was skipped: the rule runs already');
          else this.deps.log.error({ err, rule: name }, 'replication: a scheduled run did not start');
        });
      });
      this.crons.set(name, { schedule, cron });
    }
  }

  /** The rules as the API and the CLI show them (read now). */
  async views(): Promise<RuleView[]> {
    const entries = await this.deps.book.load();
    this.schedule(entries);
    return entries.map((e) => this.view(e));
  }

  view({ rule: r, source, createdBy, createdAt, updatedAt, problem }: RuleEntry): RuleView {
    const next = r.trigger.schedule === undefined ? null : new Cron(r.trigger.schedule, { timezone: 'UTC' }).nextRun(new Date(this.now()));
    return {
      name: r.name,
      source,
      createdBy,
      created: iso(createdAt),
      updated: iso(updatedAt),
      problem,
      direction: r.direction,
      remote: { url: r.remote.url, username: r.remote.username ?? null, password: r.remote.password !== undefined, insecure: r.remote.insecure },
      remoteprefix: r.remoteprefix ?? null,
      filters: { repositories: [...r.filters.repositories], tags: [...r.filters.tags], platforms: r.filters.platforms === undefined ? null : [...r.filters.platforms] },
      trigger: { schedule: r.trigger.schedule ?? null, onpush: r.trigger.onpush, next: next?.toISOString() ?? null },
      deletes: r.deletes,
      parallel: r.parallel,
      concurrency: r.concurrency,
      bandwidth: r.bandwidth ?? null,
    };
  }

  /** Make a rule (a rule's definition, as the config holds one), by administrator `actor`. */
  async create(body: unknown, actor: string): Promise<RuleView> {
    const entry = await this.deps.book.create(body, actor);
    this.schedule(this.deps.book.cached());
    return this.view(entry);
  }

  /** Replace a rule made through the API or the CLI. */
  async replace(name: string, body: unknown): Promise<RuleView> {
    const entry = await this.deps.book.replace(name, body);
    this.schedule(this.deps.book.cached());
    return this.view(entry);
  }

  /** Delete a rule made through the API or the CLI, and its runs; its runs going on here stop. */
  async delete(name: string): Promise<void> {
    await this.deps.book.delete(name);
    this.schedule(this.deps.book.cached());
  }

  private stopRuns(name: string, why: string): void {
    for (const stopper of this.stoppers.get(name) ?? []) stopper.abort(new Error(`the run stopped: ${why}`));
    this.stoppers.delete(name);
  }

  async rule(name: string): Promise<RuleView> {
    return this.view(await this.deps.book.find(name));
  }

  async latest(names: readonly string[]): Promise<Map<string, ReplicationRun>> {
    return this.deps.store.latest(names);
  }

  async runs(name: string, opts: { limit?: number; before?: number } = {}): Promise<ReplicationRun[]> {
    await this.deps.book.find(name);
    return this.deps.store.list(name, opts);
  }

  /**
   * Start a run of rule `name` and answer it as started; it goes on in the background (`done`
   * resolves when it ended). ReplicationBusyError while the rule runs.
   */
  async trigger(name: string, trigger: RunTrigger = 'manual', only?: Scope): Promise<ReplicationRun & { done: Promise<void> }> {
    // by hand: the rule as stored now; by its timers and hooks: as last read (read again when missing)
    const { rule, problem } = trigger === 'manual' ? await this.deps.book.find(name) : (this.deps.book.cached().find((e) => e.rule.name === name) ?? (await this.deps.book.find(name)));
    if (problem !== null) throw new ReplicationRuleUnusableError(name, problem);
    // a run after a push or a delete here only for a rule that (still) follows them
    if (only !== undefined && !follows({ rule, problem })) throw new Error(`replication rule ${name} no longer follows pushes`);
    const scope = only === undefined ? null : only.tag === undefined ? only.repository : `${only.repository}:${only.tag}`;
    const started = await this.deps.store.start({ rule: name, trigger, scope, node: this.deps.node }, this.now(), this.now() + this.leaseMs);
    if (started === undefined) throw new ReplicationBusyError(name);
    const done = this.execute(rule, started, only).finally(() => this.running.delete(done));
    this.running.add(done);
    return { ...started, done };
  }

  /** A tag was pushed here: each push rule copying on push that takes it copies it now. */
  pushed(repository: string, tag: string | undefined): void {
    if (tag !== undefined) this.follow('onpush', { repository, tag });
  }

  /**
   * A tag was deleted here, or (tag undefined) a manifest by digest, with whatever tags it had:
   * each push rule copying on push with `deletes` that takes it deletes it there now.
   */
  deleted(repository: string, tag: string | undefined): void {
    this.follow('ondelete', { repository, tag });
  }

  private follow(trigger: 'onpush' | 'ondelete', only: Scope): void {
    if (this.abort.signal.aborted) return;
    for (const entry of this.deps.book.cached()) {
      const { rule } = entry;
      if (!follows(entry) || (trigger === 'ondelete' && !rule.deletes)) continue;
      if (!rule.filters.repositories.some((p) => globMatches(p, only.repository))) continue;
      if (only.tag !== undefined && !rule.filters.tags.some((p) => globMatches(p, only.tag ?? ''))) continue;
      let queue = this.follows.get(rule.name);
      if (queue === undefined) {
        queue = { scopes: new Map(), overflow: false, draining: false };
        this.follows.set(rule.name, queue);
      }
      const key = only.tag === undefined ? only.repository : `${only.repository}:${only.tag}`;
      if (!queue.scopes.has(key) && !queue.scopes.has(only.repository)) {
        // past MAX_FOLLOWS_QUEUED a tag waits as its repository (a run of it covers every tag);
        // past twice that, a full run of the rule covers them all
        if (queue.scopes.size < MAX_FOLLOWS_QUEUED) queue.scopes.set(key, { trigger, only });
        else if (queue.scopes.size < 2 * MAX_FOLLOWS_QUEUED) queue.scopes.set(only.repository, { trigger, only: { repository: only.repository } });
        else queue.overflow = true;
      }
      if (!queue.draining) void this.drain(rule.name, queue);
    }
  }

  /**
   * Work a rule's queue of pushes and deletes to follow: one run at a time, each scope once however
   * often it came while queued (a run copies or deletes the tag as it is then, so the last state
   * wins). Past MAX_FOLLOWS_QUEUED a full run of the rule covers them all.
   */
  private async drain(name: string, queue: FollowQueue): Promise<void> {
    queue.draining = true;
    try {
      while (!this.abort.signal.aborted && this.follows.get(name) === queue) {
        // the rule as it is now: one changed to follow no more (or deleted, or unusable) drops its queue
        const entry = this.deps.book.cached().find((e) => e.rule.name === name);
        if (entry === undefined || !follows(entry)) {
          this.follows.delete(name);
          break;
        }
        let next: { trigger: 'onpush' | 'ondelete'; only: Scope | undefined };
        if (queue.overflow) {
          queue.overflow = false;
          queue.scopes.clear();
          next = { trigger: 'onpush', only: undefined };
        } else {
          const first = queue.scopes.entries().next();
          if (first.done === true) break;
          queue.scopes.delete(first.value[0]);
          next = first.value[1];
        }
        try {
          await (await this.trigger(name, next.trigger, next.only)).done;
        } catch (err) {
          if (err instanceof ReplicationBusyError && next.only === undefined) {
            // a full run of the rule started before these pushes: it does not cover them; try again
            queue.overflow = true;
            await this.pause(this.deps.retryMs ?? FULL_RUN_RETRY_MS);
          } else {
            this.deps.log.error({ err, rule: name, ...next.only }, `replication: a run ${next.trigger} did not start`);
          }
        }
      }
    } finally {
      queue.draining = false;
    }
  }

  /** Wait `ms`, or less when the service stops. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.abort.signal.addEventListener('abort', done, { once: true });
    });
  }

  private async execute(rule: ReplicationRule, run: ReplicationRun, only: Scope | undefined): Promise<void> {
    const stopper = new AbortController();
    const stoppers = this.stoppers.get(rule.name) ?? new Set<AbortController>();
    stoppers.add(stopper);
    this.stoppers.set(rule.name, stoppers);
    // deleted between its start and now: stopRuns did not see this run
    if (!this.deps.book.cached().some((e) => e.rule.name === rule.name)) stopper.abort(new Error('the run stopped: its rule was deleted'));
    try {
      await this.executeRun(rule, run, only, AbortSignal.any([this.abort.signal, stopper.signal]));
    } finally {
      stoppers.delete(stopper);
      if (stoppers.size === 0 && this.stoppers.get(rule.name) === stoppers) this.stoppers.delete(rule.name);
    }
  }

  private async executeRun(rule: ReplicationRule, run: ReplicationRun, only: Scope | undefined, signal: AbortSignal): Promise<void> {
    const { store, node, log } = this.deps;
    const local = this.deps.local();
    const remote = this.deps.remote(rule);
    // stopped (rule deleted, berth stopping): the remote's connections go at once, and no retry follows
    const closeRemote = (): void => void remote.close().catch(() => undefined);
    signal.addEventListener('abort', closeRemote, { once: true });
    let last = 0;
    let outcome: RunOutcome;
    try {
      outcome = await runRule({
        rule,
        from: rule.direction === 'pull' ? remote : local,
        to: rule.direction === 'pull' ? local : remote,
        ...(only !== undefined && { only }),
        signal,
        progress: async (counts: RunCounts, failures: RunFailure[]) => {
          if (this.now() - last < PROGRESS_MS) return;
          last = this.now();
          if (!(await store.progress(run.id, node, counts, failures, this.now() + this.leaseMs))) throw new Error('the run was taken over (its lease ran out) or its rule deleted');
        },
      });
    } catch (err) {
      outcome = { status: 'failed', counts: { ...run.counts }, failures: [{ what: rule.name, reason: err instanceof Error ? err.message : String(err) }] };
    } finally {
      signal.removeEventListener('abort', closeRemote);
      await Promise.allSettled([local.close(), remote.close()]);
    }
    log.info({ rule: rule.name, run: run.id, status: outcome.status, ...outcome.counts }, 'replication run ended');
    if (!(await store.finish(run.id, node, outcome.status, outcome.counts, outcome.failures, this.now()).catch(() => false))) return;
    await store.prune(rule.name, RUNS_KEPT).catch((err: unknown) => log.error({ err, rule: rule.name }, 'replication: old runs were not pruned'));
    const ended = await store.get(run.id);
    if (ended !== undefined) await this.deps.ended?.(rule, ended).catch((err: unknown) => log.error({ err, rule: rule.name }, 'replication: the completion event failed'));
  }
}
