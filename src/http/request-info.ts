/**
 * The request as notification events describe it (distribution's RequestRecord): request id,
 * client address (X-Forwarded-For's first hop, else X-Real-IP, else the socket's, as distribution
 * reads it), Host, method and User-Agent. Built once per event from the request context.
 */
import type { RequestInfo } from '../events/event.ts';
import type { RequestContext } from './context.ts';

function header(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first.trim() === '' ? undefined : first;
}

function clientAddr(ctx: RequestContext): string {
  const forwarded = header(ctx.req.headers['x-forwarded-for']);
  if (forwarded !== undefined) return forwarded.split(',')[0]?.trim() ?? '';
  const real = header(ctx.req.headers['x-real-ip']);
  if (real !== undefined) return real.trim();
  const { remoteAddress, remotePort } = ctx.req.socket;
  if (remoteAddress === undefined) return '';
  const host = remoteAddress.includes(':') ? `[${remoteAddress}]` : remoteAddress;
  return remotePort === undefined ? host : `${host}:${remotePort}`;
}

export function requestInfo(ctx: RequestContext): RequestInfo {
  return {
    id: ctx.id,
    addr: clientAddr(ctx),
    host: header(ctx.req.headers.host) ?? '',
    method: ctx.req.method ?? '',
    useragent: header(ctx.req.headers['user-agent']) ?? '',
  };
}
