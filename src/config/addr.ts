/**
 * Listen addresses in Go's form, as distribution's `http.addr` takes them: "host:port",
 * ":port" (every interface), or "[ipv6]:port". Port 0 means "any free port" (useful in tests).
 */
import { isIPv6 } from 'node:net';

export interface ListenAddr {
  /** Hostname or IP to bind; '' means every interface (pass `undefined` to server.listen). */
  host: string;
  port: number;
}

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;

/** Why `addr` is not a valid listen address, or undefined when it is. */
export function addrProblem(addr: string): string | undefined {
  const colon = addr.lastIndexOf(':');
  if (colon < 0) return `expected "host:port" or ":port", got ${JSON.stringify(addr)}`;
  const host = addr.slice(0, colon);
  const port = addr.slice(colon + 1);
  if (!/^\d{1,5}$/.test(port)) return `port ${JSON.stringify(port)} is not a number (expected "host:port" or ":port")`;
  if (Number(port) > 65535) return `port ${port} is out of range 0-65535`;
  if (host.startsWith('[') || host.endsWith(']')) {
    const inner = host.slice(1, -1);
    if (!host.startsWith('[') || !host.endsWith(']') || !isIPv6(inner)) {
      return `host ${JSON.stringify(host)} is not a bracketed IPv6 address`;
    }
    return undefined;
  }
  if (host.includes(':')) return `IPv6 host ${JSON.stringify(host)} must be in brackets, e.g. "[::1]:5000"`;
  if (host !== '' && !HOSTNAME.test(host)) return `host ${JSON.stringify(host)} is not a valid hostname or IP address`;
  return undefined;
}

/** Splits a listen address; throws a TypeError naming the problem when it is invalid. */
export function parseAddr(addr: string): ListenAddr {
  const problem = addrProblem(addr);
  if (problem !== undefined) throw new TypeError(`invalid address ${JSON.stringify(addr)}: ${problem}`);
  const colon = addr.lastIndexOf(':');
  let host = addr.slice(0, colon);
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { host, port: Number(addr.slice(colon + 1)) };
}
