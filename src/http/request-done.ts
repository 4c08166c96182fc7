/**
 * What is known of a request once its response is finished or aborted, handed to the observers
 * configured in main.ts (the access log, metrics). Observing costs one 'close' listener per
 * request and nothing when no observer is configured.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ServedAs } from './routes.ts';

export interface RequestDone {
  id: string;
  method: string;
  /** The route name; 'ui' for the web UI's files, 'unknown' when nothing matched. */
  route: ServedAs;
  repo: string | undefined;
  status: number;
  seconds: number;
  /** Request body bytes (declared Content-Length, else what the connection read during the request). */
  bytesIn: number;
  /** Response body bytes (declared Content-Length, or what was written when streamed). */
  bytesOut: number;
  /** The client went away before the response was complete. */
  aborted: boolean;
}

export type RequestObserver = (done: RequestDone) => void;

function declaredLength(value: string | number | string[] | undefined): number {
  const n = Number(Array.isArray(value) ? value[0] : value);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** Call every observer when the response closes. */
export function observeRequest(
  req: IncomingMessage,
  res: ServerResponse,
  observers: readonly RequestObserver[],
  describe: () => { id: string; route: ServedAs; repo: string | undefined },
): void {
  if (observers.length === 0) return;
  const started = performance.now();
  // Bytes the connection had delivered when this request's headers were parsed: what it reads
  // after that is this request's body (a chunked upload declares no length).
  const socketBytes = req.socket.bytesRead;
  res.once('close', () => {
    const { id, route, repo } = describe();
    const declaredIn = req.headers['content-length'];
    const done: RequestDone = {
      id,
      route,
      repo,
      method: req.method ?? 'GET',
      status: res.statusCode,
      seconds: (performance.now() - started) / 1e3,
      bytesIn: declaredIn !== undefined ? declaredLength(declaredIn) : Math.max(0, req.socket.bytesRead - socketBytes),
      bytesOut: req.method === 'HEAD' ? 0 : declaredLength(res.getHeader('content-length')),
      aborted: !res.writableFinished,
    };
    for (const observe of observers) observe(done);
  });
}

/** The access log: one structured line per request (no query strings, no headers: nothing secret). */
export function accessLogger(log: Logger): RequestObserver {
  return (d) =>
    log.info(
      {
        reqId: d.id,
        method: d.method,
        route: d.route,
        repo: d.repo,
        status: d.status,
        ms: Math.round(d.seconds * 1e5) / 100,
        bytesIn: d.bytesIn,
        bytesOut: d.bytesOut,
        aborted: d.aborted || undefined,
      },
      'request',
    );
}
