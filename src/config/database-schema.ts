/**
 * `database`: PostgreSQL for every store instead of the embedded SQLite file, so that several
 * berth nodes share one registry. The keys are GitLab container registry's (`enabled`, `host`,
 * `port`, `user`, `password`, `dbname`, `sslmode`, `sslrootcert`, `sslcert`, `sslkey`,
 * `connecttimeout`, `pool`), plus one `url` for those who have a connection string instead.
 * The config keeps the keys as written (so printing it masks the password by key); the connection
 * string for `pg` (src/meta/postgres/database.ts) is made only when the database is opened.
 */
import { z } from 'zod';
import type { PgConnectionConfig } from '../meta/postgres/database.ts';

/** libpq's sslmode values. `pg` never falls back to plain text: `prefer` and `allow` encrypt as `require` does. */
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;


export function databaseSchema(duration: z.ZodType<number, string>) {
  return z
    .object({
      enabled: z.boolean().default(false),
      url: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL').optional(),
      host: z.string().min(1).default('localhost'),
      port: z.number().int().min(1).max(65535).default(5432),
      user: z.string().min(1).default('berth'),
      password: z.string().optional(),
      dbname: z.string().min(1).default('berth'),
      sslmode: z.enum(SSL_MODES).optional(),
      sslrootcert: z.string().min(1).optional(),
      sslcert: z.string().min(1).optional(),
      sslkey: z.string().min(1).optional(),
      connecttimeout: duration.prefault('10s'),
      pool: z
        .object({
          maxopen: z.number().int().min(1).default(10),
          maxidle: z.number().int().min(0).default(5),
          maxidletime: duration.prefault('30s'),
        })
        .prefault({}),
    });
}

export type DatabaseConfig = z.output<ReturnType<typeof databaseSchema>>;

/** What `pg` needs to connect, from the `database` section. */
export function databaseSettings(db: DatabaseConfig): PgConnectionConfig {
  return {
    connectionString: db.url ?? connectionString(db),
    maxOpen: db.pool.maxopen,
    idleTimeoutMs: db.pool.maxidletime,
    connectTimeoutMs: db.connecttimeout,
  };
}

function connectionString(db: DatabaseConfig): string {
  const url = new URL('postgres://');
  // a host starting with / is a Unix socket directory, as in libpq: the `host` parameter overrides the URL's
  url.hostname = db.host.startsWith('/') ? 'localhost' : db.host;
  if (db.host.startsWith('/')) url.searchParams.set('host', db.host);
  url.port = String(db.port);
  url.username = db.user;
  if (db.password !== undefined) url.password = db.password;
  url.pathname = `/${db.dbname}`;
  if (db.sslmode !== undefined) url.searchParams.set('sslmode', db.sslmode);
  for (const key of ['sslrootcert', 'sslcert', 'sslkey'] as const) {
    const value = db[key];
    if (value !== undefined) url.searchParams.set(key, value);
  }
  return url.toString();
}
