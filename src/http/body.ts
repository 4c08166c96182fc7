/** Request bodies: small ones read whole under a limit, large ones streamed by the domain. */
import type { IncomingMessage } from 'node:http';
import { readAtMost } from '../registry/body.ts';

/** Read a whole body of at most `limit` bytes; undefined when it is larger (the rest is discarded). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    req.resume();
    return undefined;
  }
  return readAtMost(req, limit);
}

/** Whether the request carries a body (a non-zero Content-Length or a chunked transfer). */
export function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  if (cl !== undefined) return cl !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}
