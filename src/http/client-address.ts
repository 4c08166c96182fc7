/**
 * Who is at the other end of a request, as far as we can believe it. The socket's peer is the
 * client unless it is one of the proxies in `http.trustedproxies`: then X-Forwarded-For is walked
 * from the right (the entry the proxy itself added) leftwards past every trusted proxy, as nginx's
 * real_ip_recursive and Express's `trust proxy` do, and the first address that is not a trusted
 * proxy is the client. An untrusted peer's X-Forwarded-For is ignored entirely: anyone can send one.
 * An entry that is not an IP address ends the walk at the last address believed, and at most
 * MAX_FORWARDED_HOPS entries are read, so a huge header costs nothing.
 *
 * Whether the browser reached us over HTTPS (for the session cookie) follows the same trust, with
 * one leniency: `X-Forwarded-Proto: https` counts from anyone, because calling a request secure only
 * makes its cookie stricter (Secure, `__Host-`), for the sender's own request alone.
 *
 * Handlers and the authoriser see only the request, so each request is bound on arrival to the
 * HTTP options of the server that received it (bindHttpOptions, called where the server is made).
 */
import type { IncomingMessage, Server } from 'node:http';
import { BlockList } from 'node:net';
import { canonicalIp, familyOf, parseCidr } from '../config/ip.ts';
import type { HttpOptions } from './context.ts';

/** The proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (http.trustedproxies). */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly ranges: readonly string[];

  /** Throws a TypeError naming a range that is not an IP address or CIDR range. */
  constructor(ranges: readonly string[]) {
    this.ranges = [...ranges];
    for (const range of ranges) {
      const { address, prefix, family } = parseCidr(range);
      this.list.addSubnet(address, prefix, family);
    }
  }

  /** Whether the canonical address `address` is a trusted proxy. */
  has(address: string): boolean {
    return this.ranges.length > 0 && address !== '' && this.list.check(address, familyOf(address));
  }
}

const NO_PROXIES = new TrustedProxies([]);

/** The most X-Forwarded-For entries read, from the right. */
export const MAX_FORWARDED_HOPS = 32;

export interface Client {
  /** The client's IP address, canonical (see config/ip.ts); '' when the socket is gone. */
  address: string;
  /** The socket's port, when the client is the socket's peer (no trusted proxy forwarded the request). */
  port?: number;
}

const boundOptions = new WeakMap<IncomingMessage, HttpOptions>();

/** From now on, each request `server` receives knows `options` (its trusted proxies, its prefix) before any handler runs. */
export function bindHttpOptions(server: Server, options: HttpOptions): void {
  server.prependListener('request', (req: IncomingMessage) => {
    boundOptions.set(req, options);
  });
}

/** The HTTP options of the server `req` arrived at; undefined for a server made without bindHttpOptions. */
export function httpOptionsOf(req: IncomingMessage): HttpOptions | undefined {
  return boundOptions.get(req);
}

function trustedFor(req: IncomingMessage): TrustedProxies {
  return boundOptions.get(req)?.trustedProxies ?? NO_PROXIES;
}

/** One X-Forwarded-For entry as an address: `ip`, `ip:port` (IPv4), `[ip]` or `[ip]:port`; undefined otherwise. */
function hopAddress(raw: string): string | undefined {
  const hop = raw.trim();
  if (hop.length > 64) return undefined;
  if (hop.startsWith('[')) {
    const close = hop.indexOf(']');
    return close !== -1 && /^(:\d{1,5})?$/.test(hop.slice(close + 1)) ? canonicalIp(hop.slice(1, close)) : undefined;
  }
  const v4WithPort = /^(\d+\.\d+\.\d+\.\d+):\d{1,5}$/.exec(hop);
  return canonicalIp(v4WithPort?.[1] ?? hop);
}

function peerOf(req: IncomingMessage): string {
  return canonicalIp(req.socket.remoteAddress ?? '') ?? '';
}

/** The client of `req`, believing forwarded headers only from `trusted` proxies. */
export function resolveClient(req: IncomingMessage, trusted: TrustedProxies): Client {
  const peer = peerOf(req);
  const direct: Client = req.socket.remotePort === undefined ? { address: peer } : { address: peer, port: req.socket.remotePort };
  const header = req.headers['x-forwarded-for'];
  if (header === undefined || !trusted.has(peer)) return direct;
  const list = Array.isArray(header) ? header.join(',') : header;
  let client: string | undefined;
  let end = list.length;
  for (let hops = 0; hops < MAX_FORWARDED_HOPS && end > 0; hops++) {
    const comma = list.lastIndexOf(',', end - 1);
    const hop = hopAddress(list.slice(comma + 1, end));
    end = Math.max(comma, 0);
    if (hop === undefined) break;
    client = hop;
    if (!trusted.has(hop)) break;
  }
  return client === undefined ? direct : { address: client };
}

/** Whether the browser reached us over HTTPS: directly, or as a proxy says (see above). */
export function isSecure(req: IncomingMessage, trusted: TrustedProxies = trustedFor(req)): boolean {
  const header = req.headers['x-forwarded-proto'];
  const proto = (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim().toLowerCase();
  if (proto === 'https') return true;
  if (proto !== undefined && proto !== '' && trusted.has(peerOf(req))) return false;
  return 'encrypted' in req.socket;
}

/** The client's IP address, for the login throttle and logs. */
export function clientAddress(req: IncomingMessage, trusted: TrustedProxies = trustedFor(req)): string {
  return resolveClient(req, trusted).address;
}

/** The client as notification events name it: `ip` when forwarded, else the socket's `ip:port` (`[ipv6]:port`). */
export function clientEndpoint(req: IncomingMessage, trusted: TrustedProxies = trustedFor(req)): string {
  const { address, port } = resolveClient(req, trusted);
  if (port === undefined || address === '') return address;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
