import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { clientAddress, clientEndpoint, isSecure, MAX_FORWARDED_HOPS, TrustedProxies } from './client-address.ts';

function request(peer: string, headers: Record<string, string | string[]> = {}, encrypted = false): IncomingMessage {
  const socket = { remoteAddress: peer, remotePort: 40000, ...(encrypted && { encrypted: true }) };
  return { headers, socket } as unknown as IncomingMessage;
}

const PROXIES = new TrustedProxies(['10.0.0.0/8', 'fd00::/8']);
const NONE = new TrustedProxies([]);

describe('client address', () => {
  it('is the socket peer when it is not a trusted proxy, whatever X-Forwarded-For says', () => {
    const req = request('198.51.100.9', { 'x-forwarded-for': '203.0.113.7' });
    assert.equal(clientAddress(req, PROXIES), '198.51.100.9');
    assert.equal(clientAddress(req, NONE), '198.51.100.9');
    assert.equal(clientEndpoint(req, PROXIES), '198.51.100.9:40000');
    assert.equal(clientAddress(request('10.0.0.1', { 'x-forwarded-for': '203.0.113.7' }), NONE), '10.0.0.1', 'no proxy is trusted by default');
  });

  it('walks X-Forwarded-For from the right past trusted proxies; what a client wrote on the left is not believed', () => {
    const xff = (value: string | string[]) => request('10.0.0.1', { 'x-forwarded-for': value });
    assert.equal(clientAddress(xff('203.0.113.7'), PROXIES), '203.0.113.7');
    assert.equal(clientEndpoint(xff('203.0.113.7'), PROXIES), '203.0.113.7', 'no port for a forwarded client');
    assert.equal(clientAddress(xff('6.6.6.6, 203.0.113.7'), PROXIES), '203.0.113.7', 'a spoofed entry left of the client');
    assert.equal(clientAddress(xff('6.6.6.6, 203.0.113.7, 10.1.2.3,10.4.5.6'), PROXIES), '203.0.113.7', 'a chain of trusted proxies');
    assert.equal(clientAddress(xff(['6.6.6.6', '203.0.113.7']), PROXIES), '203.0.113.7', 'several header lines');
    assert.equal(clientAddress(xff('10.9.9.9, 10.1.1.1'), PROXIES), '10.9.9.9', 'every entry trusted: the leftmost');
  });

  it('reads ports, brackets, IPv6 and IPv4-mapped addresses', () => {
    assert.equal(clientAddress(request('::ffff:10.0.0.1', { 'x-forwarded-for': '203.0.113.7:5555' }), PROXIES), '203.0.113.7', 'a dual-stack socket');
    assert.equal(clientAddress(request('fd00::1', { 'x-forwarded-for': '[2001:DB8::7]:443' }), PROXIES), '2001:db8::7');
    assert.equal(clientAddress(request('10.0.0.1', { 'x-forwarded-for': '2001:db8:0:0::7, ::ffff:10.2.2.2' }), PROXIES), '2001:db8::7');
    assert.equal(clientAddress(request('::ffff:198.51.100.9'), PROXIES), '198.51.100.9');
    assert.equal(clientEndpoint(request('2001:db8::9'), PROXIES), '[2001:db8::9]:40000');
  });

  it('stops at an entry that is not an address, keeping the last address it believed', () => {
    const xff = (value: string) => clientAddress(request('10.0.0.1', { 'x-forwarded-for': value }), PROXIES);
    assert.equal(xff('203.0.113.7, unknown'), '10.0.0.1');
    assert.equal(xff('203.0.113.7, nonsense, 10.2.2.2'), '10.2.2.2');
    assert.equal(xff(''), '10.0.0.1');
    assert.equal(xff(' , '), '10.0.0.1');
    assert.equal(xff(`${'9'.repeat(10_000)}`), '10.0.0.1');
  });

  it(`reads at most ${MAX_FORWARDED_HOPS} entries of a huge header`, () => {
    const trusted = Array.from({ length: 2000 }, (_, i) => `10.0.${Math.floor(i / 250)}.${i % 250}`);
    const header = ['203.0.113.7', ...trusted].join(', ');
    assert.ok(header.length > 16_000);
    assert.equal(clientAddress(request('10.0.0.1', { 'x-forwarded-for': header }), PROXIES), trusted[trusted.length - MAX_FORWARDED_HOPS]);
  });
});

describe('secure requests', () => {
  it('are those over TLS, or said to be HTTPS by X-Forwarded-Proto from anyone; only a trusted proxy can say "http"', () => {
    assert.equal(isSecure(request('198.51.100.9'), PROXIES), false);
    assert.equal(isSecure(request('198.51.100.9', {}, true), PROXIES), true);
    assert.equal(isSecure(request('198.51.100.9', { 'x-forwarded-proto': 'https' }), NONE), true, 'https only ever makes the cookie stricter');
    assert.equal(isSecure(request('198.51.100.9', { 'x-forwarded-proto': 'http' }, true), PROXIES), true, 'an untrusted "http" is ignored');
    assert.equal(isSecure(request('10.0.0.1', { 'x-forwarded-proto': 'http' }, true), PROXIES), false, 'a trusted proxy serving plain HTTP');
    assert.equal(isSecure(request('10.0.0.1', { 'x-forwarded-proto': 'HTTPS, http' }), PROXIES), true, 'the first (client-facing) value');
  });
});

describe('trusted proxies', () => {
  it('refuse a range that is not one, naming it', () => {
    assert.throws(() => new TrustedProxies(['10.0.0.0/8', '10.0.0.0/33']), /"10\.0\.0\.0\/33": the prefix length must be a number from 0 to 32/);
  });
});
