/**
 * The operational endpoints, outside the registry's route table and its error envelope:
 *   GET|HEAD /healthz       200 {"status":"ok"} while the process answers
 *   GET|HEAD /readyz        200 or 503 with each check's result
 *   GET|HEAD <metricsPath>  Prometheus text exposition (only when metrics are given)
 * opsHandler answers those and returns false for anything else, so the main server goes on to
 * the registry's routes; createDebugServer serves them alone on http.debug.addr.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { HealthChecker } from './health.ts';
import type { Metrics } from './metrics.ts';

export interface OpsOptions {
  metrics?: Metrics;
  health: HealthChecker;
  metricsPath: string;
}

export type OpsHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

type Answer = () => Promise<{ status: number; contentType: string; body: string }>;

function json(status: number, value: unknown): { status: number; contentType: string; body: string } {
  return { status, contentType: 'application/json', body: `${JSON.stringify(value)}\n` };
}

function send(req: IncomingMessage, res: ServerResponse, answer: Answer): void {
  answer()
    .catch((err: unknown) => ({ status: 500, contentType: 'text/plain; charset=utf-8', body: `${err instanceof Error ? err.message : String(err)}\n` }))
    .then(({ status, contentType, body }) => {
      res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    })
    .catch(() => res.destroy());
}

export function opsHandler(opts: OpsOptions): OpsHandler {
  const { metrics, health } = opts;
  const answers = new Map<string, Answer>([
    ['/healthz', async () => json(200, health.live())],
    [
      '/readyz',
      async () => {
        const readiness = await health.ready();
        return json(readiness.ok ? 200 : 503, { status: readiness.ok ? 'ok' : 'unavailable', checks: readiness.checks });
      },
    ],
  ]);
  if (metrics !== undefined) {
    answers.set(opts.metricsPath, async () => ({ status: 200, ...(await metrics.render()) }));
  }
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const answer = answers.get(q === -1 ? url : url.slice(0, q));
    if (answer === undefined) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': 0 });
      res.end();
      return true;
    }
    send(req, res, answer);
    return true;
  };
}

/** A server for http.debug.addr answering only the operational endpoints (404 otherwise). */
export function createDebugServer(handler: OpsHandler): http.Server {
  return http.createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    if (handler(req, res)) return;
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('404 page not found\n');
  });
}
