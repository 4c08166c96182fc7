/**
 * One HTTP(S) request to another registry (the mirror's upstream client, the copy engine's
 * registry client), bounded in time: it fails when no connection comes within `connectTimeoutMs`,
 * or when nothing is received for `idleTimeoutMs` (a transfer that stalls, not one that is long).
 * Resolves with the response as soon as its head arrives; an error of its body later is its
 * reader's (nobody reading must not crash the process).
 */
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';

export interface RequestTimeouts {
  connectTimeoutMs: number;
  idleTimeoutMs: number;
}

export function timedRequest(
  url: URL,
  options: { method: string; headers: Record<string, string>; agent?: http.Agent | undefined },
  timeouts: RequestTimeouts,
  /** Writes the body and ends the request. */
  write: (req: ClientRequest) => void,
  /** The error the request rejects with, from the socket's or a timeout's. */
  failure: (err: NodeJS.ErrnoException) => Error,
): Promise<IncomingMessage> {
  const { connectTimeoutMs, idleTimeoutMs } = timeouts;
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, options, (res) => {
      res.on('error', () => undefined);
      resolve(res);
    });
    let connectTimer: NodeJS.Timeout | undefined;
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      connectTimer = setTimeout(() => req.destroy(new Error(`no connection within ${connectTimeoutMs} ms`)), connectTimeoutMs);
      socket.once('connect', () => clearTimeout(connectTimer));
    });
    req.setTimeout(idleTimeoutMs, () => req.destroy(new Error(`nothing received for ${idleTimeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      reject(failure(e));
    });
    write(req);
  });
}

/** `CODE message` of a socket error, or its message. */
export function socketReason(e: NodeJS.ErrnoException): string {
  return e.code !== undefined ? `${e.code} ${e.message}` : e.message;
}
