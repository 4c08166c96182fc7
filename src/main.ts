/**
 * The composition root: from a validated config, build the storage driver, the backend (every
 * store on one database), the registry domain and the HTTP server, and start them. No logic lives
 * here beyond wiring; every optional feature is switched on from here alone. The command line
 * (bin/berth.js, src/cli) starts it through `berth serve`; nothing here imports the CLI.
 */
import { announceBuilds, createBuilds, localAddress, type Builds } from './builds/setup.ts';
import { createReplication, withReplicationHooks } from './replication/setup.ts';
import type { Replication } from './replication/service.ts';
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import type { Config } from './config/schema.ts';
import { parseAddr } from './config/addr.ts';
import { readFileSync } from 'node:fs';
import { createHttpServer, DEFAULT_LIMITS, type TlsMaterial } from './http/server.ts';
import { bindHttpOptions, TrustedProxies } from './http/client-address.ts';
import type { HttpOptions } from './http/context.ts';
import { accessLogger, type RequestObserver } from './http/request-done.ts';
import { leasedRunner } from './meta/leases.ts';
import { openBackend } from './meta/open-backend.ts';
import { Registry } from './registry/registry.ts';
import { withPathValidation } from './storage/base.ts';
import type { StorageDriver } from './storage/driver.ts';
import { FilesystemDriver } from './storage/drivers/fs.ts';
import { MemoryDriver } from './storage/drivers/memory.ts';
import { startUploadPurger } from './registry/upload-purger.ts';
import { contentGuards } from './registry/guards.ts';
import { createCollector, startGcSchedule } from './registry/gc-schedule.ts';
import { ReloadableNotifications } from './events/notifications.ts';
import { eventsStatus } from './events/status.ts';
import { emittingDecorator, mirrorFillEmitter } from './events/emitting-stores.ts';
import { withStorageMetrics } from './observability/storage-metrics.ts';
import { withMetaMetrics } from './observability/meta-metrics.ts';
import { HealthChecker, metaCheck, storageCheck } from './observability/health.ts';
import { createDebugServer, opsHandler } from './observability/routes.ts';
import { createProxy } from './proxy/index.ts';
import { createAccessControl } from './auth/setup.ts';
import { loadUi, UI_DIRECTORY } from './http/ui-static.ts';
import { Discovery } from './search/discovery.ts';
import { PullCounter } from './search/pulls.ts';
import { StorageSampler } from './observability/storage-sampler.ts';
import type { AccessControl } from './auth/access-control.ts';
import { RetentionService } from './retention/service.ts';

export interface RunningRegistry {
  server: Server;
  registry: Registry;
  /** Accounts and access control (on once a user exists or `auth` is configured). */
  access: AccessControl;
  /** Search, stars, descriptions and pull counts. */
  search: Discovery;
  /** Retention policies: previews, and applying them (each garbage collection run does). */
  retention: RetentionService;
  /** Automated builds, with builds.enabled. */
  builds?: Builds;
  /** Replication: the rules, their schedules and runs. */
  replication: Replication;
  /** The address actually listened on (port resolved when 0 was asked). */
  address: { host: string; port: number };
  log: Logger;
  /** Stop accepting connections, let in-flight requests finish up to the deadline, close stores. */
  close(deadlineMs?: number): Promise<void>;
  /** Apply what can change live from a newly loaded config: the log level, notification endpoints. */
  reload(config: Config): Promise<void>;
}

export function createLogger(config: Config): Logger {
  return pino({ level: config.log.level, base: { service: 'berth', ...config.log.fields } });
}

/** The storage driver the config names; the S3 one (and the AWS SDK) is loaded only when named. */
export async function createDriver(config: Config): Promise<StorageDriver> {
  const storage = config.storage;
  let driver: StorageDriver;
  if (storage.driver === 'inmemory') driver = new MemoryDriver();
  else if (storage.driver === 's3') driver = (await import('./storage/drivers/s3.ts')).createS3Driver(storage.s3);
  else driver = new FilesystemDriver(path.resolve(storage.filesystem.rootdirectory));
  return withPathValidation(driver);
}

function readTls(config: Config): TlsMaterial | undefined {
  const tls = config.http.tls;
  return (
    tls && {
      cert: readFileSync(tls.certificate),
      key: readFileSync(tls.key),
      clientCAs: tls.clientcas.map((f) => readFileSync(f)),
    }
  );
}

/** Listen on `addr` (host:port); resolves with the address bound. */
async function listen(server: Server, addr: string): Promise<{ host: string; port: number }> {
  const { host, port } = parseAddr(addr);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host || undefined, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  return typeof bound === 'object' && bound !== null ? { host: bound.address, port: bound.port } : { host, port };
}

/** Stop accepting, let requests in flight finish until the deadline, then cut what is left. */
function closeServer(server: Server, deadlineMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), deadlineMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

export interface StartOptions {
  /** The clock of tags' pull stamps and of retention's ages (tests); Date.now unless given. The stores keep the real one. */
  now?: () => number;
}

export async function startRegistry(config: Config, log: Logger = createLogger(config), opts: StartOptions = {}): Promise<RunningRegistry> {
  const prometheus = config.http.debug.prometheus;
  const debugAddr = config.http.debug.addr;
  // prom-client (and what it loads) only when metrics are on: about 3 MB of heap otherwise held for nothing.
  const metrics =
    config.metrics.enabled || (prometheus.enabled && debugAddr !== undefined) ? new (await import('./observability/metrics.ts')).Metrics() : undefined;

  const baseDriver = await createDriver(config);
  const driver = metrics ? withStorageMetrics(baseDriver, metrics) : baseDriver;
  const backend = await openBackend(config);
  const meta = metrics ? withMetaMetrics(backend.meta, metrics) : backend.meta;
  // Notification events come from the served stores (events/emitting-stores.ts), mirror fills included.
  const notifications = new ReloadableNotifications({
    config: config.notifications,
    queue: backend.events,
    log,
    port: parseAddr(config.http.addr).port,
  });
  const mirror =
    config.proxy &&
    createProxy(config.proxy, {
      log,
      observer: metrics && { request: (...a) => metrics.mirrorRequest(...a), bytes: (...a) => metrics.mirrorBytesCounted(...a) },
      onManifestFetched: mirrorFillEmitter(notifications.sink),
    });
  // immutable tags and quotas, from the config and the administrators' settings
  const guards = contentGuards(config.access, backend, meta);
  // made below, with the registry; the push hook reads it then
  const late: { replication?: Replication | undefined } = {};
  const registry = new Registry({
    driver,
    meta,
    guards: guards.all,
    ...(backend.uploadState !== undefined && { uploadState: backend.uploadState }),
    ...(backend.changes !== undefined && { changes: backend.changes }),
    deleteEnabled: config.storage.delete.enabled,
    readOnly: config.storage.maintenance.readonly.enabled,
    log,
    onCacheLookup: metrics && ((cache, hit) => metrics.cacheLookup(cache, hit)),
    // push rules that follow pushes and deletes hear of them (replication is made below, with the registry)
    decorate: emittingDecorator(
      withReplicationHooks(notifications.sink, () => late.replication),
      mirror?.decorate,
    ),
  });
  await registry.open();

  const sd = config.health.storagedriver;
  const health = new HealthChecker([
    storageCheck(baseDriver, {
      readOnly: config.storage.maintenance.readonly.enabled,
      periodic: sd.enabled ? { intervalMs: sd.interval, threshold: sd.threshold } : undefined,
    }),
    metaCheck(meta),
  ]);
  const access = await createAccessControl({ config, store: backend.accounts, meta, log, keys: backend.keys, loginFailures: backend.loginFailures, onFailure: metrics && (() => metrics.authFailure()) });
  const accessMode = await access.mode();
  const search = new Discovery({
    index: backend.search,
    pulls: new PullCounter(backend.search, {
      intervalMs: 5_000,
      onError: (err) => log.warn({ err }, 'pull counts not written yet'),
      tags: backend.tagActivity,
      ...(opts.now !== undefined && { now: opts.now }),
    }),
    defaultPublic: config.access.defaultvisibility === 'public',
  });
  const retention = new RetentionService({
    registry,
    store: backend.tagActivity,
    settings: backend.settings,
    config: config.retention.policies,
    access: access.policy,
    immutable: guards.immutable,
    log,
    ...(opts.now !== undefined && { now: opts.now }),
  });
  // this node, as the holder of background job leases (one node runs each job per interval)
  const node = `${hostname()}:${process.pid}:${randomUUID()}`;
  const runOnce = leasedRunner(backend.leases, node);
  // garbage collection: deletes go through the served stores (events, caches), bytes through the unwrapped driver
  const gcConfig = config.storage.gc;
  const collector = createCollector(gcConfig, {
    registry,
    store: backend.gc,
    driver: baseDriver,
    node,
    log,
    purging: config.storage.maintenance.uploadpurging,
    deleteEnabled: config.storage.delete.enabled,
    readOnly: config.storage.maintenance.readonly.enabled,
    ...(metrics !== undefined && { observer: metrics.gc }),
    retention: (dryRun) => retention.apply(dryRun),
  });
  // automated builds: rules and the queue through the API; the runner starts once berth listens (it pushes here)
  const builds = config.builds.enabled
    ? createBuilds({ config, backend, access, log, node, runOnce, ended: announceBuilds(notifications.sink, log) })
    : undefined;
  // replication rules: their schedules start once berth listens
  const replication = createReplication({ config, backend, registry, node, log, sink: notifications.sink, metrics, ...(opts.now !== undefined && { now: opts.now }) });
  late.replication = replication;
  const storageSampler = new StorageSampler(backend.usage, {
    runOnce,
    intervalMs: config.ui.storagesampleinterval,
    onError: (err) => log.warn({ err }, 'storage usage not sampled'),
  });
  if (accessMode === 'open') {
    log.warn('access control is OFF: anyone who can reach this registry may push, pull and delete. Create the first user (berth user add NAME --admin) or configure auth to switch it on');
  } else log.info({ mode: accessMode, challenge: access.challenge.scheme }, 'access control is on');

  const ui = config.ui.enabled ? await loadUi(UI_DIRECTORY, config.http.prefix) : undefined;
  if (ui !== undefined && 'missing' in ui) log.warn({ reason: ui.missing }, 'the web UI is not built: / answers 404');
  else if (ui !== undefined) log.info({ path: `${config.http.prefix}/`, scriptKiB: Math.round(ui.scriptBytes.raw / 1024), scriptGzipKiB: Math.round(ui.scriptBytes.gzip / 1024) }, 'web UI served');

  const observers: RequestObserver[] = [];
  if (!config.log.accesslog.disabled) observers.push(accessLogger(log));
  if (metrics) observers.push((done) => metrics.observeRequest(done));
  const httpOptions: HttpOptions = {
    host: config.http.host,
    prefix: config.http.prefix,
    relativeUrls: config.http.relativeurls,
    headers: config.http.headers,
    redirectDisabled: config.storage.redirect.disable,
    catalogMaxEntries: config.catalog.maxentries,
    trustedProxies: new TrustedProxies(config.http.trustedproxies),
  };
  const server = createHttpServer(
    {
      registry,
      log,
      observers,
      access,
      search,
      storageUsage: backend.usage,
      retention,
      immutable: guards.immutable,
      quotas: guards.quotas,
      gc: { collector, store: backend.gc, config: gcConfig },
      ...(builds !== undefined && { builds: builds.service }),
      replication,
      ...(ui !== undefined && !('missing' in ui) && { ui }),
      eventsStatus: (failedOnly) => eventsStatus(notifications.queue, { failedOnly }),
      mirrorStatus: mirror?.status,
      uploadGauge: metrics && { inc: () => metrics.uploadStarted(), dec: () => metrics.uploadEnded() },
      ops: opsHandler({ metrics: config.metrics.enabled ? metrics : undefined, health, metricsPath: prometheus.path }),
      options: httpOptions,
    },
    DEFAULT_LIMITS,
    readTls(config),
  );
  bindHttpOptions(server, httpOptions);
  const purger = startUploadPurger(registry.local.uploads, config.storage.maintenance.uploadpurging, log, baseDriver, runOnce);
  health.start();
  const address = await listen(server, config.http.addr);
  const debugServer =
    debugAddr === undefined
      ? undefined
      : createDebugServer(opsHandler({ metrics: prometheus.enabled ? metrics : undefined, health, metricsPath: prometheus.path }));
  if (debugServer && debugAddr) {
    const debug = await listen(debugServer, debugAddr);
    log.info({ addr: `${debug.host}:${debug.port}` }, 'debug server listening');
  }
  notifications.start();
  storageSampler.start();
  const gcSchedule = startGcSchedule(collector, gcConfig, runOnce, log);
  builds?.start(localAddress(address));
  await replication.start();
  log.info({ addr: `${address.host}:${address.port}`, storage: config.storage.driver, meta: config.database.enabled ? 'postgresql' : config.meta.sqlite.path }, 'listening');
  return {
    server,
    registry,
    access,
    search,
    retention,
    ...(builds !== undefined && { builds }),
    replication,
    address,
    log,
    async reload(next: Config) {
      if (log.level !== next.log.level) log.info({ from: log.level, to: next.log.level }, 'log level changed');
      log.level = next.log.level;
      await notifications.reload(next.notifications);
    },
    async close(deadlineMs = 10_000) {
      purger.stop();
      gcSchedule.stop();
      await builds?.stop();
      await replication.stop();
      health.stop();
      await Promise.all([closeServer(server, deadlineMs), debugServer && closeServer(debugServer, 0)]);
      await notifications.stop(Math.min(deadlineMs, 5_000));
      await registry.close();
      mirror?.close();
      await search.close();
      await storageSampler.stop();
      await backend.close();
    },
  };
}
