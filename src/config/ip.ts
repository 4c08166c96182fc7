/**
 * IP addresses and CIDR ranges, for `http.trustedproxies` and for whatever keys on a client's
 * address (the login throttle): one canonical text per address (IPv6 lowercase and compressed,
 * IPv4-mapped IPv6 written as the IPv4 address it is), and ranges checked strictly so that a typo
 * stops start-up instead of trusting more (or fewer) proxies than meant.
 */
import { isIPv4, isIPv6, SocketAddress } from 'node:net';

export type IpFamily = 'ipv4' | 'ipv6';

export interface Cidr {
  /** Canonical network address. */
  address: string;
  prefix: number;
  family: IpFamily;
}

const MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/;

/**
 * The canonical text of an IP address, or undefined when `text` is not one. A zone (`%eth0`) is
 * dropped; `::ffff:10.0.0.1` (how a dual-stack socket reports an IPv4 peer) becomes `10.0.0.1`.
 */
export function canonicalIp(text: string): string | undefined {
  if (isIPv4(text)) return text;
  if (!isIPv6(text)) return undefined;
  const canonical = new SocketAddress({ address: text, family: 'ipv6' }).address;
  return MAPPED.exec(canonical)?.[1] ?? canonical;
}

/** The family of a canonical address. */
export function familyOf(address: string): IpFamily {
  return address.includes(':') ? 'ipv6' : 'ipv4';
}

/** The eight 16-bit groups of a valid IPv6 address (an embedded dotted IPv4 tail counts as two). */
export function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted !== null) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(zeros).fill('0'), ...right].map((group) => parseInt(group, 16));
}

function bitsOf(address: string, family: IpFamily): bigint {
  const parts = family === 'ipv4' ? address.split('.').map(Number) : ipv6Groups(address);
  const width = family === 'ipv4' ? 8n : 16n;
  return parts.reduce((acc, part) => (acc << width) | BigInt(part), 0n);
}

function addressOf(bits: bigint, family: IpFamily): string {
  if (family === 'ipv4') return [24n, 16n, 8n, 0n].map((shift) => String((bits >> shift) & 0xffn)).join('.');
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => ((bits >> shift) & 0xffffn).toString(16));
  return new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

type Parsed = { ok: true; cidr: Cidr } | { ok: false; problem: string };

function parse(text: string): Parsed {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const family: IpFamily | undefined = isIPv4(address) ? 'ipv4' : isIPv6(address) && !address.includes('%') ? 'ipv6' : undefined;
  if (family === undefined) {
    return { ok: false, problem: `${JSON.stringify(text)} is not an IP address or a CIDR range (such as 10.0.0.0/8 or fd00::/8)` };
  }
  const max = family === 'ipv4' ? 32 : 128;
  const prefixText = slash === -1 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
    return { ok: false, problem: `${JSON.stringify(text)}: the prefix length must be a number from 0 to ${max}` };
  }
  const prefix = Number(prefixText);
  const bits = bitsOf(address, family);
  const hostMask = (1n << BigInt(max - prefix)) - 1n;
  const network = addressOf(bits & ~hostMask, family);
  if ((bits & hostMask) !== 0n) {
    return { ok: false, problem: `${JSON.stringify(text)} has bits set past its prefix: write ${network}/${prefix}, or ${address}/${max} for that one address` };
  }
  return { ok: true, cidr: { address: network, prefix, family } };
}

/** Why `text` is not an IP address or CIDR range, or undefined when it is one. */
export function cidrProblem(text: string): string | undefined {
  const parsed = parse(text);
  return parsed.ok ? undefined : parsed.problem;
}

/** An address (one host) or a CIDR range; throws a TypeError naming the problem when it is neither. */
export function parseCidr(text: string): Cidr {
  const parsed = parse(text);
  if (!parsed.ok) throw new TypeError(parsed.problem);
  return parsed.cidr;
}
