// Minimal HTTP/1.1 client on node:http with keep-alive, streaming request bodies,
// and bounded response buffering. Used for pushes, seeding and readiness checks.
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

export interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Bytes received in the body (may exceed body.length when capped). */
  bytes: number;
}

export interface ReqOpts {
  headers?: OutgoingHttpHeaders;
  body?: Buffer | Readable;
  /** Keep at most this many body bytes in memory (rest is counted and dropped). */
  maxBody?: number;
  /** Idle socket timeout in ms. */
  timeoutMs?: number;
  /** Called with every response body chunk (e.g. for hashing). */
  onData?: (chunk: Buffer) => void;
  /** Another agent than the shared one (at most 8 sockets), e.g. one connection per concurrent client. */
  agent?: http.Agent;
}

export function request(method: string, url: URL, opts: ReqOpts = {}): Promise<Res> {
  const maxBody = opts.maxBody ?? 1 << 20;
  return new Promise<Res>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error): void => {
      if (!settled) {
        settled = true;
        reject(err);
      }
    };
    const headers: OutgoingHttpHeaders = { ...opts.headers };
    if (opts.body === undefined && !['GET', 'HEAD', 'DELETE'].includes(method)) headers['content-length'] ??= 0;
    const req = http.request(
      {
        method,
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        headers,
        agent: opts.agent ?? agent,
      },
      (res) => {
        const parts: Buffer[] = [];
        let kept = 0;
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          opts.onData?.(chunk);
          if (kept < maxBody) {
            parts.push(chunk);
            kept += chunk.length;
          }
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), bytes });
        });
        res.on('error', fail);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 120_000, () => req.destroy(new Error(`${method} ${url.href}: timeout`)));
    req.on('error', fail);
    const body = opts.body;
    if (body === undefined) {
      req.end();
    } else if (Buffer.isBuffer(body)) {
      req.end(body);
    } else {
      // A server may answer (e.g. 4xx) before reading the whole body; the response handler
      // settles the promise, so a write error after that is not reported.
      pipeline(body, req).catch((err: unknown) => fail(err instanceof Error ? err : new Error(String(err))));
    }
  });
}

export function describe(res: Res): string {
  const text = res.body.subarray(0, 300).toString('utf8').replace(/\s+/g, ' ');
  return `HTTP ${res.status}${text ? `: ${text}` : ''}`;
}

/** Throw unless the status is one of `ok`. */
export function expectStatus(res: Res, ok: number[], what: string): Res {
  if (!ok.includes(res.status)) throw new Error(`${what}: expected ${ok.join('/')}, got ${describe(res)}`);
  return res;
}

/** Resolve the Location header of an upload response against the server base URL. */
export function location(res: Res, base: URL, what: string): URL {
  const loc = res.headers.location;
  if (!loc) throw new Error(`${what}: response has no Location header (${describe(res)})`);
  return new URL(loc, base);
}

/** Poll GET url until it answers `status` (bounded by timeoutMs). */
export async function waitForHttp(
  url: URL,
  timeoutMs: number,
  isDead: () => string | null,
  status = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    const dead = isDead();
    if (dead !== null) throw new Error(`server exited before it was ready: ${dead}`);
    try {
      const res = await request('GET', url, { timeoutMs: 2000 });
      if (res.status === status) return;
      last = describe(res);
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  throw new Error(`${url.href} not ready after ${timeoutMs} ms (last: ${last})`);
}
