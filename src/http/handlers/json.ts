/** JSON responses. */
import type { ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, status: number, value: unknown, contentType = 'application/json; charset=utf-8'): void {
  const body = JSON.stringify(value);
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/**
 * A response without a body. Content-Length is 0 unless the headers give one (a HEAD response
 * states the length of the body a GET would send).
 */
export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string | number> = {}): void {
  res.statusCode = status;
  if (!('Content-Length' in headers)) res.setHeader('Content-Length', 0);
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.end();
}
