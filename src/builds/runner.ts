/**
 * Running the build queue: builds.concurrency workers on this node, each claiming the oldest
 * queued build (leased to this node, renewed while it runs; another node takes it back if this
 * one stops), fetching its commit, building and pushing it, and recording how it ended. A build
 * is stopped by a cancel (seen at the next renewal), by builds.timeout, or by shutdown. Polling
 * rules (`git ls-remote` every builds.pollinterval) runs on one node at a time (a job lease).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { BuildsConfig } from '../config/builds-schema.ts';
import { BuildLog } from './build-log.ts';
import { insideSource, type Builder } from './buildah.ts';
import type { PushCredentials } from './credentials.ts';
import { baseRepositories } from './dockerfile.ts';
import { fetchSource, listRemote } from './git.ts';
import type { Build, BuildStore, StoredBuildRule } from './model.ts';
import { NO_SANDBOX, type Sandbox } from './sandbox.ts';
import type { BuildService } from './service.ts';

/** Told when a build ends (the notifications' build.completed). */
export type BuildEnded = (build: Build) => Promise<void>;

export interface RunnerDeps {
  config: BuildsConfig;
  store: BuildStore;
  service: BuildService;
  builder: Builder;
  credentials: PushCredentials;
  /** berth's address as the builder reaches it, `127.0.0.1:5000` (known once listening). */
  registry: () => string;
  /** This node's name (leases). */
  holder: string;
  log: Logger;
  ended?: BuildEnded;
  /** Run `fn` on one node per period (meta/leases.ts), for polling. */
  runOnce?: (job: string, ttlMs: number, fn: () => Promise<void>) => Promise<boolean>;
  now?: () => number;
  /** How long an idle worker waits before it looks at the queue again (another node or the CLI may queue). */
  idlePollMs?: number;
  /** How long a claim holds a running build; renewed at a third of it. */
  leaseMs?: number;
  /** What git runs in (sandbox.ts); the builder has its own. */
  sandbox?: Sandbox;
}

class Stop extends Error {}

/** Whether a process of this id exists (EPERM: it does, another user's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class BuildRunner {
  private readonly now: () => number;
  private readonly idlePollMs: number;
  private readonly leaseMs: number;
  private readonly sandbox: Sandbox;
  private stopping = false;
  private readonly workers: Promise<void>[] = [];
  private readonly sleepers = new Set<() => void>();
  private readonly running = new Map<number, AbortController>();
  private pollTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: RunnerDeps) {
    this.now = deps.now ?? Date.now;
    this.idlePollMs = deps.idlePollMs ?? 2_000;
    this.leaseMs = deps.leaseMs ?? 60_000;
    this.sandbox = deps.sandbox ?? NO_SANDBOX;
  }

  start(): void {
    void this.sweep();
    for (let i = 0; i < this.deps.config.concurrency; i++) this.workers.push(this.work());
    const interval = this.deps.config.pollinterval;
    this.pollTimer = setInterval(() => void this.pollOnce().catch((err: unknown) => this.deps.log.warn({ err }, 'builds: polling failed')), interval);
    this.pollTimer.unref();
  }

  /** Stop a build running on this node (cancelled); false when it does not run here. */
  cancel(id: number): boolean {
    const running = this.running.get(id);
    running?.abort(new Error('cancelled'));
    return running !== undefined;
  }

  /**
   * Remove the work directories (`<build>-<pid>`, `poll-<rule>-<pid>`) of berth processes that are
   * gone (a crash leaves its builds' sources, image stores and auth files behind).
   */
  private async sweep(): Promise<void> {
    const entries = await fs.readdir(this.deps.config.workdir).catch(() => [] as string[]);
    for (const name of entries) {
      const pid = Number(/-(\d+)$/.exec(name)?.[1]);
      if (!Number.isSafeInteger(pid) || pid === process.pid || alive(pid)) continue;
      await fs.rm(path.join(this.deps.config.workdir, name), { recursive: true, force: true }).catch((err: unknown) => this.deps.log.warn({ err, name }, 'builds: a stale work directory was not removed'));
    }
  }

  /** A build was queued: an idle worker looks now. */
  wake(): void {
    for (const wake of this.sleepers) wake();
  }

  /** Stop claiming, stop running builds (another node, or this one after a restart, takes them again), wait for the workers. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    for (const c of this.running.values()) c.abort(new Stop('berth is stopping'));
    this.wake();
    await Promise.allSettled(this.workers);
  }

  private async work(): Promise<void> {
    while (!this.stopping) {
      let build: Build | undefined;
      try {
        build = await this.deps.store.claim(this.deps.holder, this.now(), this.now() + this.leaseMs);
      } catch (err) {
        this.deps.log.error({ err }, 'builds: claiming from the queue failed');
      }
      if (build === undefined) {
        await this.sleep();
        continue;
      }
      await this.run(build).catch((err: unknown) => this.deps.log.error({ err, build: build.id }, 'builds: a build failed unexpectedly'));
    }
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.idlePollMs);
      timer.unref();
      this.sleepers.add(done);
    });
  }

  private async run(build: Build): Promise<void> {
    const { config, store, log } = this.deps;
    const abort = new AbortController();
    this.running.set(build.id, abort);
    const earlier = (await store.readLog(build.id).catch(() => [])).at(-1)?.seq;
    const buildLog = new BuildLog(store, build.id, config.logsize, earlier === undefined ? 0 : earlier + 1, (err) => log.warn({ err, build: build.id }, 'builds: a log chunk was not stored'));
    const dir = path.join(config.workdir, `${build.id}-${process.pid}`);
    const timeout = setTimeout(() => abort.abort(new Error(`timed out after ${Math.round(config.timeout / 1000)} s (builds.timeout)`)), config.timeout);
    const renewal = setInterval(() => {
      store.renew(build.id, this.deps.holder, this.now() + this.leaseMs).then(
        (r) => {
          if (!r.held) abort.abort(new Stop('another node took the build over'));
          else if (r.cancelRequested) abort.abort(new Error('cancelled'));
        },
        (err: unknown) => log.warn({ err, build: build.id }, 'builds: renewing a lease failed'),
      );
    }, Math.max(250, this.leaseMs / 3));
    let revoke: (() => Promise<void>) | undefined;
    let end: { status: 'succeeded' | 'failed' | 'cancelled'; digest?: string; error?: string };
    try {
      const rule = await store.getRule(build.ruleId);
      if (rule === undefined) throw new Error('its build rule was deleted');
      await fs.rm(dir, { recursive: true, force: true });
      await this.sandbox.workdir(this.deps.config.workdir);
      await this.sandbox.dir(dir);
      const credential = await this.deps.service.credentialOf(rule);
      if (credential !== undefined) {
        buildLog.hide(credential.secret);
        // `user:token`: the token alone is as secret
        if (credential.kind === 'token' && credential.secret.includes(':')) buildLog.hide(credential.secret.slice(credential.secret.indexOf(':') + 1));
      }
      buildLog.line(`# build ${build.id} of ${build.repository}: ${rule.sourceType} ${build.ref}${build.commit ? ` at ${build.commit}` : ''} from ${rule.gitUrl}`);
      const commit = await fetchSource(rule.gitUrl, { type: rule.sourceType, name: build.ref }, dir, {
        sandbox: this.sandbox,
        ...(credential && { credential }),
        signal: abort.signal,
        onOutput: (t) => buildLog.write(t),
      });
      await store.setCommit(build.id, commit);
      buildLog.line(`# commit ${commit}`);
      const registry = this.deps.registry();
      const image = `${registry}/${build.repository}:${build.tag}`;
      // The base images the token may pull; a Dockerfile that is not there (or leaves the source) is the builder's to report.
      const dockerfile = await insideSource(path.join(dir, 'src'), path.join(rule.context, rule.dockerfile), 'Dockerfile')
        .then((file) => fs.readFile(file, 'utf8'))
        .catch(() => '');
      const push = await this.deps.credentials.mint(build.repository, rule.createdBy, { id: build.id, pulls: baseRepositories(dockerfile, registry) }, this.now() + config.timeout + 60_000);
      if (push !== undefined) buildLog.hide(push.password);
      revoke = push?.revoke;
      buildLog.line(`# building ${rule.dockerfile} in ${rule.context} into ${image}`);
      const digest = await this.deps.builder.build({
        dir,
        context: rule.context,
        dockerfile: rule.dockerfile,
        buildArgs: rule.buildArgs,
        registry,
        image,
        ...(push && { auth: { username: push.username, password: push.password } }),
        signal: abort.signal,
        onOutput: (t) => buildLog.write(t),
      });
      buildLog.line(`# pushed ${image}@${digest}`);
      end = { status: 'succeeded', digest };
    } catch (err) {
      const reason = abort.signal.aborted ? abort.signal.reason : err;
      // An error may quote a program's output: no secret goes in the build's record either.
      const message = buildLog.mask(reason instanceof Error ? reason.message : String(reason));
      end = message === 'cancelled' ? { status: 'cancelled', error: 'cancelled while running' } : { status: 'failed', error: message };
      buildLog.line(`# ${end.status}: ${message}`);
      if (reason instanceof Stop) {
        // Not this build's end: left running, its lease runs out, and it is queued again.
        await this.cleanup(build, dir, buildLog, revoke, timeout, renewal);
        return;
      }
    }
    await this.cleanup(build, dir, buildLog, revoke, timeout, renewal);
    if (await store.finish(build.id, this.deps.holder, end, this.now())) {
      const done = await store.get(build.repository, build.id);
      if (done !== undefined) await this.deps.ended?.(done).catch((err: unknown) => log.error({ err, build: build.id }, 'builds: the build.completed event failed'));
    }
  }

  private async cleanup(build: Build, dir: string, buildLog: BuildLog, revoke: (() => Promise<void>) | undefined, timeout: NodeJS.Timeout, renewal: NodeJS.Timeout): Promise<void> {
    clearTimeout(timeout);
    clearInterval(renewal);
    this.running.delete(build.id);
    await buildLog.flush();
    await revoke?.().catch((err: unknown) => this.deps.log.warn({ err, build: build.id }, 'builds: revoking the build token failed'));
    await fs.rm(dir, { recursive: true, force: true }).catch((err: unknown) => this.deps.log.warn({ err, dir }, 'builds: removing a work directory failed'));
  }

  /** Ask each polling rule's remote for its references; queue a build for each that moved since the last look. */
  async pollOnce(): Promise<void> {
    const poll = async (): Promise<void> => {
      for (const rule of await this.deps.store.pollingRules()) {
        if (this.stopping) return;
        await this.pollRule(rule).catch((err: unknown) => this.deps.log.warn({ err: (err as Error).message, rule: rule.id, repository: rule.repository }, 'builds: polling a remote failed'));
      }
    };
    if (this.deps.runOnce === undefined) await poll();
    else await this.deps.runOnce('builds-poll', this.deps.config.pollinterval, poll);
  }

  private async pollRule(rule: StoredBuildRule): Promise<void> {
    const dir = path.join(this.deps.config.workdir, `poll-${rule.id}-${process.pid}`);
    await this.sandbox.workdir(this.deps.config.workdir);
    await this.sandbox.dir(dir);
    try {
      const refs = await listRemote(rule.gitUrl, dir, await this.deps.service.credentialOf(rule), this.sandbox);
      const seen = await this.deps.store.seenCommits(rule.id);
      const first = Object.keys(seen).length === 0;
      const now: Record<string, string> = {};
      for (const ref of refs) {
        const key = `${ref.type}:${ref.name}`;
        now[key] = ref.commit;
        // A rule's first look only records what is there; builds follow what moves after it.
        if (!first && seen[key] !== ref.commit) await this.deps.service.queueFor([rule], ref, 'poll', null);
      }
      await this.deps.store.setSeenCommits(rule.id, first && refs.length === 0 ? { '': '' } : now);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }
}
