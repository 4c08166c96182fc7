/**
 * The PostgreSQL connection every PostgreSQL store shares: one `pg` pool, BIGINT read as a JS
 * number (sizes, times and counts stay far below 2^53), transactions that roll back on any
 * throw, and LISTEN on a dedicated connection for invalidation across nodes.
 */
import pg from 'pg';

/** int8 (BIGINT, COUNT(*)) as number instead of pg's default string. */
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface PgConnectionConfig {
  /** postgres://user:password@host:port/dbname?sslmode=... */
  connectionString: string;
  /** Connections in the pool at most. */
  maxOpen?: number;
  /** How long an idle connection stays open (ms). */
  idleTimeoutMs?: number;
  /** How long to wait for a connection (ms); 0 waits for ever. */
  connectTimeoutMs?: number;
}

/** Something to run a query on: the pool, or one transaction's client. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<pg.QueryResult<R>>;
}

export class PgDatabase implements Queryable {
  readonly pool: pg.Pool;
  private listener: pg.Client | undefined;
  private readonly handlers = new Map<string, Set<(payload: string) => void>>();

  constructor(private readonly config: PgConnectionConfig) {
    this.pool = new pg.Pool({
      connectionString: config.connectionString,
      max: config.maxOpen ?? 10,
      idleTimeoutMillis: config.idleTimeoutMs ?? 30_000,
      connectionTimeoutMillis: config.connectTimeoutMs ?? 10_000,
      types,
    });
    // A client losing its server (a restart, a failover, pg_terminate_backend) must not take the
    // process down: idle clients report through the pool, and a client checked out between two
    // queries of a transaction emits 'error' on itself, with nobody listening unless we do. The
    // query in flight still fails, and the pool replaces the client.
    this.pool.on('error', () => undefined);
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(sql, params as unknown[] | undefined);
  }

  /** The rows of a query. */
  async rows<R extends object>(sql: string, params?: readonly unknown[], on: Queryable = this): Promise<R[]> {
    return (await on.query<R>(sql, params)).rows;
  }

  /** The first row of a query, or undefined. */
  async one<R extends object>(sql: string, params?: readonly unknown[], on: Queryable = this): Promise<R | undefined> {
    return (await on.query<R>(sql, params)).rows[0];
  }

  /** Run fn in a transaction on one client: COMMIT when it returns, ROLLBACK when it throws. */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * Call handler with each NOTIFY payload on a channel, from any node. The listening connection
   * is opened on first use and reopened if it drops (notifications sent meanwhile are lost, so
   * a handler should treat a reconnect as "anything may have changed": it gets '*').
   */
  async listen(channel: string, handler: (payload: string) => void): Promise<() => void> {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`bad channel name: ${channel}`);
    let set = this.handlers.get(channel);
    const fresh = set === undefined;
    if (set === undefined) {
      set = new Set();
      this.handlers.set(channel, set);
    }
    set.add(handler);
    const client = await this.listening();
    if (fresh) await client.query(`LISTEN ${channel}`);
    return () => set.delete(handler);
  }

  private connecting: Promise<pg.Client> | undefined;
  private closed = false;

  private listening(): Promise<pg.Client> {
    if (this.listener !== undefined) return Promise.resolve(this.listener);
    this.connecting ??= (async () => {
      const client = new pg.Client({ connectionString: this.config.connectionString, types });
      client.on('notification', (n) => {
        for (const h of this.handlers.get(n.channel) ?? []) h(n.payload ?? '');
      });
      client.on('error', () => undefined);
      client.on('end', () => {
        this.listener = undefined;
        this.connecting = undefined;
        if (!this.closed) void this.relisten();
      });
      await client.connect();
      this.listener = client;
      return client;
    })().catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }

  private async relisten(): Promise<void> {
    for (let delay = 100; !this.closed; delay = Math.min(delay * 2, 5_000)) {
      try {
        const client = await this.listening();
        for (const channel of this.handlers.keys()) await client.query(`LISTEN ${channel}`);
        for (const set of this.handlers.values()) for (const h of set) h('*');
        return;
      } catch {
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.listener?.end().catch(() => undefined);
    await this.pool.end();
  }
}

/** Whether err is PostgreSQL's unique_violation (23505). */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}
