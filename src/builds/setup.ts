/**
 * Automated builds put together for the composition root (main.ts): the service the API and the
 * CLI call, and the runner that works the queue once berth listens (the builder pushes to it).
 * Only with builds.enabled.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { AccessControl } from '../auth/access-control.ts';
import type { Config } from '../config/schema.ts';
import { SYSTEM_ACTORS, systemRequest } from '../events/context.ts';
import type { EventSink } from '../events/sink.ts';
import type { Backend } from '../meta/backend.ts';
import { BuildahBuilder } from './buildah.ts';
import { TokenPushCredentials } from './credentials.ts';
import { LogFollowers } from './log-followers.ts';
import type { Build } from './model.ts';
import { BuildRunner } from './runner.ts';
import { NO_SANDBOX, Sandbox } from './sandbox.ts';
import { sealingKeySource } from '../secrets/key-source.ts';
import { SecretBox } from '../secrets/secret-box.ts';
import { BuildService, type BuildServiceDeps } from './service.ts';

/** The service as the API serves it: with this node's live followers of build logs (one store poll per followed build). */
export class ServedBuildService extends BuildService {
  constructor(
    deps: BuildServiceDeps,
    readonly followers: LogFollowers,
  ) {
    super(deps);
  }
}

/** The service alone, without a runner (the CLI: the server's runner picks up what it queues). */
export function buildService(
  config: Config,
  backend: Pick<Backend, 'builds' | 'sealingKey'>,
  runner: { wake(): void; cancel(id: number): boolean } = { wake: () => undefined, cancel: () => false },
  followers = new LogFollowers(backend.builds),
  sandbox: Sandbox = NO_SANDBOX,
): ServedBuildService {
  const workdir = config.builds.workdir;
  return new ServedBuildService({
    store: backend.builds,
    box: new SecretBox(sealingKeySource(config, backend)),
    wake: () => runner.wake(),
    stopping: (id) => void runner.cancel(id),
    scratch: async () => {
      await sandbox.workdir(workdir);
      const dir = await fs.mkdtemp(path.join(workdir, 'ls-'));
      await sandbox.dir(dir);
      return { dir, done: () => fs.rm(dir, { recursive: true, force: true }) };
    },
    sandbox,
  }, followers);
}

export interface Builds {
  service: ServedBuildService;
  /** Start working the queue, building into berth at `registry` (host:port). */
  start(registry: string): void;
  /** Ask every polling rule's remote now (the timer does it every builds.pollinterval). */
  pollOnce(): Promise<void>;
  stop(): Promise<void>;
}

export interface BuildsDeps {
  config: Config;
  backend: Backend;
  access: AccessControl;
  log: Logger;
  /** This node (leases). */
  node: string;
  runOnce: (job: string, ttlMs: number, fn: () => Promise<void>) => Promise<boolean>;
  ended: (build: Build) => Promise<void>;
}

export function createBuilds(deps: BuildsDeps): Builds {
  const { config, backend, access, log } = deps;
  let runner: BuildRunner | undefined;
  let address = '';
  const followers = new LogFollowers(backend.builds, { onError: (err, build) => log.warn({ err, build }, 'builds: reading a followed log failed') });
  // builds.user without root stops the start, with the reason.
  const sandbox = Sandbox.forProcess(config.builds.user);
  const service = buildService(config, backend, { wake: () => runner?.wake(), cancel: (id) => runner?.cancel(id) ?? false }, followers, sandbox);
  return {
    service,
    start(registry) {
      address = registry;
      runner = new BuildRunner({
        config: config.builds,
        store: backend.builds,
        service,
        builder: new BuildahBuilder(sandbox),
        sandbox,
        credentials: new TokenPushCredentials(access.store, access.policy, () => access.enabled()),
        registry: () => address,
        holder: deps.node,
        log: log.child({ component: 'builds' }),
        ended: deps.ended,
        runOnce: deps.runOnce,
      });
      runner.start();
      log.info({ concurrency: config.builds.concurrency, workdir: config.builds.workdir, builder: config.builds.builder, user: sandbox.identity?.name ?? null }, 'automated builds on');
    },
    async pollOnce() {
      await runner?.pollOnce();
    },
    async stop() {
      followers.close();
      await runner?.stop();
    },
  };
}

/** The build.completed event of an ended build, through the notifications (actor: who asked, else berth-build). */
export function announceBuilds(sink: EventSink, log: Logger): (build: Build) => Promise<void> {
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  return async (b) => {
    log.info({ build: b.id, repository: b.repository, status: b.status, digest: b.digest, error: b.error }, 'build ended');
    if (b.status !== 'succeeded' && b.status !== 'failed' && b.status !== 'cancelled') return;
    const request = { ...systemRequest(SYSTEM_ACTORS.build), ...(b.requestedBy !== null && { actor: b.requestedBy }) };
    await sink.buildCompleted(
      {
        repository: b.repository,
        tag: b.tag,
        digest: b.digest,
        build: { id: b.id, status: b.status, rule: b.ruleId, ref: b.ref, commit: b.commit, trigger: b.trigger, error: b.error, startedAt: iso(b.startedAt), finishedAt: iso(b.finishedAt) },
      },
      request,
    );
  };
}

/** `host:port` of berth as a builder on this machine reaches it (a wildcard address becomes loopback). */
export function localAddress(address: { host: string; port: number }): string {
  const host = address.host === '' || address.host === '0.0.0.0' || address.host === '::' ? '127.0.0.1' : address.host;
  return host.includes(':') ? `[${host}]:${address.port}` : `${host}:${address.port}`;
}
