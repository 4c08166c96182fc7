/**
 * The configuration schema: distribution's `config.yml` format (version 0.1) as far as berth
 * implements it, plus berth's own `meta` section, with every default in one place.
 *
 * The schema is also the map that REGISTRY_* environment variables and unknown-key warnings are
 * resolved against (see shape.ts), so every key accepted here must be lowercase and contain no
 * underscore. Sections of distribution's format that berth does not implement are not declared
 * here: they are listed in ignored.ts and dropped with a warning before validation.
 *
 * Differences from distribution, on purpose: `storage.delete.enabled` defaults to true, the
 * storage section yields a tagged `driver` field next to the driver's own section, and metrics
 * are served on the main listener unless `metrics.enabled` is false (http.debug.prometheus.enabled
 * keeps its meaning: metrics on the debug listener too).
 */
import { join } from 'node:path';
import { z } from 'zod';
import { addrProblem } from './addr.ts';
import { cidrProblem } from './ip.ts';
import { parseDuration } from './duration.ts';
import { proxySchema } from './proxy-schema.ts';
import { accessSchema, authSchema } from './auth-schema.ts';
import { s3Schema } from './s3-schema.ts';
import { buildsSchema } from './builds-schema.ts';
import { replicationSchema } from './replication-schema.ts';
import { gcSchema } from './gc-schema.ts';
import { databaseSchema } from './database-schema.ts';
import { retentionSchema } from './retention-schema.ts';

export const STORAGE_DRIVERS = ['filesystem', 'inmemory', 's3'] as const;
export type StorageDriverName = (typeof STORAGE_DRIVERS)[number];

export const DEFAULT_ROOTDIRECTORY = './data';
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;

const addr = z.string().superRefine((value, ctx) => {
  const problem = addrProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

/** A Go duration string ("168h", "1h30m") parsed to milliseconds; must be positive. */
const duration = z.string().transform((value, ctx) => {
  try {
    const ms = parseDuration(value);
    if (ms > 0) return ms;
    ctx.addIssue({ code: 'custom', message: `duration ${JSON.stringify(value)} must be greater than zero` });
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
  return z.NEVER;
});

/** An IP address or CIDR range (config/ip.ts), checked strictly. */
const cidr = z.string().superRefine((value, ctx) => {
  const problem = cidrProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

const regexList = z
  .array(
    z.string().superRefine((pattern, ctx) => {
      try {
        new RegExp(pattern);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(err as Error).message}` });
      }
    }),
  )
  .default([]);

const flag = (value: boolean) => z.boolean().default(value);

const logSchema = z.object({
  level: z.string().toLowerCase().pipe(z.enum(LOG_LEVELS)).default('info'),
  formatter: z.enum(['json', 'text']).default('json'),
  /** Static fields added to every log line. */
  fields: z.record(z.string(), z.string()).default({}),
  accesslog: z.object({ disabled: flag(false) }).prefault({}),
});

const tlsSchema = z
  .object({
    certificate: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    clientcas: z.array(z.string().min(1)).default([]),
  })
  .superRefine((tls, ctx) => {
    if (tls.certificate !== undefined && tls.key === undefined) {
      ctx.addIssue({ code: 'custom', path: ['key'], message: 'required when http.tls.certificate is set' });
    }
    if (tls.key !== undefined && tls.certificate === undefined) {
      ctx.addIssue({ code: 'custom', path: ['certificate'], message: 'required when http.tls.key is set' });
    }
    if (tls.clientcas.length > 0 && tls.certificate === undefined) {
      ctx.addIssue({ code: 'custom', path: ['clientcas'], message: 'client CAs need http.tls.certificate and key' });
    }
  })
  .transform((tls) =>
    tls.certificate !== undefined && tls.key !== undefined
      ? { certificate: tls.certificate, key: tls.key, clientcas: tls.clientcas }
      : undefined,
  );

const httpSchema = z.object({
  addr: addr.default('0.0.0.0:5000'),
  /** distribution also accepts "unix"; berth listens on TCP only. */
  net: z.enum(['tcp']).default('tcp'),
  /** Route prefix, normalised to "" or "/path" without a trailing slash. */
  prefix: z
    .string()
    .refine((p) => p === '' || p.startsWith('/'), 'must start with "/"')
    .transform((p) => p.replace(/\/+$/, ''))
    .default(''),
  /** Externally reachable base URL used for absolute Location headers. */
  host: z
    .string()
    .refine((h) => URL.canParse(h) && /^https?:$/.test(new URL(h).protocol), 'must be an absolute http:// or https:// URL')
    .optional(),
  secret: z.string().min(1).optional(),
  relativeurls: flag(false),
  /** Headers added to every response. */
  headers: z.record(z.string(), z.array(z.string())).default({}),
  /** berth's own: proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (http/client-address.ts). */
  trustedproxies: z.array(cidr).default([]),
  /** Present only when both certificate and key are set. */
  tls: tlsSchema.prefault({}),
  debug: z
    .object({
      addr: addr.optional(),
      /** distribution's key: also serve metrics on the debug listener (http.debug.addr). */
      prometheus: z
        .object({
          enabled: flag(false),
          /** The metrics path, on the debug listener and (with metrics.enabled) on the main one. */
          path: z
            .string()
            .startsWith('/', 'must start with "/"')
            .refine((p) => !/^\/(v2(\/|$)|healthz$|readyz$)/.test(p), 'must not be /healthz, /readyz or under /v2')
            .default('/metrics'),
        })
        .prefault({}),
    })
    .prefault({}),
});

const storageSchema = z
  .object({
    filesystem: z.object({ rootdirectory: z.string().min(1).default(DEFAULT_ROOTDIRECTORY) }).optional(),
    inmemory: z.object({}).optional(),
    s3: s3Schema.optional(),
    delete: z.object({ enabled: flag(true) }).prefault({}),
    redirect: z.object({ disable: flag(false) }).prefault({}),
    maintenance: z
      .object({
        uploadpurging: z
          .object({
            enabled: flag(true),
            /** Milliseconds. */
            age: duration.prefault('168h'),
            /** Milliseconds. */
            interval: duration.prefault('24h'),
            dryrun: flag(false),
          })
          .prefault({}),
        readonly: z.object({ enabled: flag(false) }).prefault({}),
      })
      .prefault({}),
    gc: gcSchema,
  })
  .superRefine((storage, ctx) => {
    const drivers = STORAGE_DRIVERS.filter((name) => storage[name] !== undefined);
    if (drivers.length > 1) {
      ctx.addIssue({
        code: 'custom',
        message: `exactly one storage driver may be configured, found ${drivers.length}: ${drivers.join(', ')}`,
      });
    }
  })
  .transform(({ filesystem, inmemory, s3, ...common }) =>
    s3 !== undefined
      ? { driver: 's3' as const, s3, ...common }
      : inmemory !== undefined
        ? { driver: 'inmemory' as const, inmemory: {}, ...common }
        : { driver: 'filesystem' as const, filesystem: filesystem ?? { rootdirectory: DEFAULT_ROOTDIRECTORY }, ...common },
  );

/** distribution's `health` section; only its storage driver check is implemented. */
const healthSchema = z.object({
  storagedriver: z
    .object({
      /** Check storage in the background instead of on each /readyz request. */
      enabled: flag(false),
      /** Milliseconds between background checks. */
      interval: duration.prefault('10s'),
      /** Consecutive failures before storage counts as down; 0 (distribution's "unset") means 1. */
      threshold: z
        .number()
        .int()
        .nonnegative()
        .default(1)
        .transform((n) => Math.max(1, n)),
    })
    .prefault({}),
});

const validationSchema = z.object({
  disabled: flag(false),
  manifests: z
    .object({ urls: z.object({ allow: regexList, deny: regexList }).prefault({}) })
    .prefault({}),
});

/** The actions an event can have (notifications.endpoints[].ignore.actions). */
export const EVENT_ACTIONS = ['push', 'pull', 'delete', 'mount', 'build.completed', 'replication.completed'] as const;

/** One of distribution's `notifications.endpoints`, plus berth's `secret` (HMAC signature key). */
const endpointSchema = z.object({
  name: z.string().min(1),
  disabled: flag(false),
  url: z
    .string()
    .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'must be an absolute http:// or https:// URL'),
  /** Headers sent with every request to the endpoint. */
  headers: z.record(z.string(), z.array(z.string())).default({}),
  /** Milliseconds. */
  timeout: duration.prefault('1s'),
  /** Consecutive failures before the endpoint is reported as failing; 0 (distribution's "unset") means 10. */
  threshold: z
    .number()
    .int()
    .nonnegative()
    .default(10)
    .transform((n) => (n === 0 ? 10 : n)),
  /** Milliseconds: the first retry delay after a failure, doubled on each further one. */
  backoff: duration.prefault('1s'),
  ignoredmediatypes: z.array(z.string()).default([]),
  ignore: z
    .object({ mediatypes: z.array(z.string()).default([]), actions: z.array(z.enum(EVENT_ACTIONS)).default([]) })
    .prefault({}),
  /** berth's own: sign each body with HMAC-SHA256 in the X-Berth-Signature header. */
  secret: z.string().min(1).optional(),
});

const notificationsSchema = z.object({
  events: z.object({ includereferences: flag(false) }).prefault({}),
  endpoints: z
    .array(endpointSchema)
    .default([])
    .superRefine((endpoints, ctx) => {
      const seen = new Set<string>();
      endpoints.forEach((endpoint, index) => {
        if (seen.has(endpoint.name)) {
          ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `duplicate endpoint name ${JSON.stringify(endpoint.name)}` });
        }
        seen.add(endpoint.name);
      });
    }),
});

export const configSchema = z
  .object({
    version: z.string().default('0.1'),
    log: logSchema.prefault({}),
    http: httpSchema.prefault({}),
    storage: storageSchema.prefault({}),
    /** berth's own metadata store; `path` defaults from the storage driver (see below). */
    meta: z.object({ sqlite: z.object({ path: z.string().min(1).optional() }).prefault({}) }).prefault({}),
    /** PostgreSQL for every store instead of meta.sqlite (database-schema.ts), so that several nodes share one registry. */
    database: databaseSchema(duration).prefault({}),
    catalog: z.object({ maxentries: z.number().int().positive().default(1000) }).prefault({}),
    validation: validationSchema.prefault({}),
    /** Webhooks (distribution's format); absent when the file has no `notifications` section. */
    notifications: notificationsSchema.optional(),
    /** A pull-through cache of upstream registries (proxy-schema.ts); absent when the file has no `proxy` section. */
    proxy: proxySchema(duration).optional(),
    /** Authentication (auth-schema.ts): present means access control is on from the start. */
    auth: authSchema(duration).optional(),
    /** berth's own: visibility of new repositories and the private repository limit. */
    access: accessSchema.prefault({}),
    /** berth's own: the web UI served at `/`, its sign-in sessions and the storage history it charts. */
    ui: z
      .object({
        enabled: flag(true),
        sessionttl: duration.prefault('12h'),
        storagesampleinterval: duration.prefault('1h'),
      })
      .prefault({}),
    health: healthSchema.prefault({}),
    /** berth's own: serve Prometheus metrics on the main listener at http.debug.prometheus.path. */
    metrics: z.object({ enabled: flag(true) }).prefault({}),
    /** berth's own: retention policies, applied by each garbage collection run (docs/retention.md). */
    retention: retentionSchema.prefault({}),
    /** berth's own: automated builds from Git repositories (builds-schema.ts, docs/builds.md). */
    builds: buildsSchema(duration),
    replication: replicationSchema(),
  })
  .superRefine((config, ctx) => {
    // A build pushes `host:port/name:tag`: an image reference has no room for a path prefix.
    if (config.builds.enabled && config.http.prefix !== '') {
      ctx.addIssue({ code: 'custom', path: ['builds', 'enabled'], message: 'automated builds push image references, which cannot carry http.prefix: serve berth without a prefix to use them' });
    }
    // Blobs in a bucket, their metadata in memory would be lost on restart: ask where it goes.
    if (config.storage.driver === 's3' && config.meta.sqlite.path === undefined && !config.database.enabled) {
      ctx.addIssue({
        code: 'custom',
        path: ['meta', 'sqlite', 'path'],
        message: 'required with storage.s3: a local file for the metadata store, or database.enabled: true for PostgreSQL (what several nodes need)',
      });
    }
  })
  .transform(({ meta, ...config }) => ({
    ...config,
    meta: { sqlite: { path: meta.sqlite.path ?? defaultMetaPath(config.storage) } },
  }));

function defaultMetaPath(storage: { driver: StorageDriverName; filesystem?: { rootdirectory: string } }): string {
  return storage.filesystem !== undefined ? join(storage.filesystem.rootdirectory, 'berth.db') : ':memory:';
}

/** The validated configuration, every default filled in. */
export type Config = z.output<typeof configSchema>;
/** What a config file (or the `overrides` option) may contain; every key is optional. */
export type ConfigInput = z.input<typeof configSchema>;
export type StorageConfig = Config['storage'];
export type NotificationsConfig = z.output<typeof notificationsSchema>;
/** The address and duration types, for the generated reference (reference.ts) to name them. */
export { addr as addrSchema, duration as durationSchema };
