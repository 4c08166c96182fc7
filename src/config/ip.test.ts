/** IP addresses and CIDR ranges, and `http.trustedproxies` loaded from a file and from REGISTRY_HTTP_TRUSTEDPROXIES. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalIp, cidrProblem, ipv6Groups, parseCidr } from './ip.ts';
import { loadConfig } from './load.ts';
import { configFiles, expectConfigError } from './test-support.ts';

const configFile = configFiles('config-ip');

describe('IP addresses', () => {
  it('have one canonical text: IPv6 lowercase and compressed, IPv4-mapped as IPv4, no zone', () => {
    assert.equal(canonicalIp('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
    assert.equal(canonicalIp('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(canonicalIp('::FFFF:a00:1'), '10.0.0.1');
    assert.equal(canonicalIp('fe80::1%eth0'), 'fe80::1');
    assert.equal(canonicalIp('10.0.0.1'), '10.0.0.1');
    for (const bad of ['010.0.0.1', '10.0.0.256', '10.0.0.1 ', 'localhost', '', '1::2::3']) assert.equal(canonicalIp(bad), undefined, bad);
  });

  it('expand to eight groups', () => {
    assert.deepEqual(ipv6Groups('2001:db8::1'), [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(ipv6Groups('::'), [0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(ipv6Groups('fe80::'), [0xfe80, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(ipv6Groups('::ffff:1.2.3.4'), [0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
  });
});

describe('CIDR ranges', () => {
  it('accept addresses (one host) and ranges of either family', () => {
    assert.deepEqual(parseCidr('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    assert.deepEqual(parseCidr('192.0.2.7'), { address: '192.0.2.7', prefix: 32, family: 'ipv4' });
    assert.deepEqual(parseCidr('FD00::/8'), { address: 'fd00::', prefix: 8, family: 'ipv6' });
    assert.deepEqual(parseCidr('::1'), { address: '::1', prefix: 128, family: 'ipv6' });
    assert.deepEqual(parseCidr('0.0.0.0/0'), { address: '0.0.0.0', prefix: 0, family: 'ipv4' });
    assert.deepEqual(parseCidr('::ffff:10.0.0.0/104'), { address: '::ffff:10.0.0.0', prefix: 104, family: 'ipv6' });
  });

  it('refuse anything else, saying why', () => {
    const cases: [string, RegExp][] = [
      ['10.0.0.0/33', /prefix length must be a number from 0 to 32/],
      ['fd00::/129', /from 0 to 128/],
      ['10.0.0.0/', /prefix length/],
      ['10.0.0.0/8/8', /prefix length/],
      ['10.0.0.0/-1', /prefix length/],
      ['10.0.0.1/8', /bits set past its prefix: write 10\.0\.0\.0\/8, or 10\.0\.0\.1\/32 for that one address/],
      ['fd00::1/8', /write fd00::\/8, or fd00::1\/128/],
      ['10.0.0', /not an IP address or a CIDR range/],
      ['fe80::1%eth0/64', /not an IP address/],
      ['10.0.0.0/8,192.168.0.0/16', /prefix length/],
      [' 10.0.0.0/8', /not an IP address/],
      ['proxy.example.com', /not an IP address/],
    ];
    for (const [text, reason] of cases) assert.match(cidrProblem(text) ?? 'accepted', reason, text);
    assert.throws(() => parseCidr('10.0.0.1/8'), TypeError);
  });
});

describe('http.trustedproxies', () => {
  it('loads from the file and from REGISTRY_HTTP_TRUSTEDPROXIES (one range, or a YAML list)', () => {
    const fromFile = loadConfig({ env: {}, file: configFile('http:\n  trustedproxies: [10.0.0.0/8, "fd00::/8"]\n') }).config;
    assert.deepEqual(fromFile.http.trustedproxies, ['10.0.0.0/8', 'fd00::/8']);
    assert.deepEqual(loadConfig({ env: {} }).config.http.trustedproxies, []);
    const one = loadConfig({ env: { REGISTRY_HTTP_TRUSTEDPROXIES: '172.16.0.0/12' } }).config;
    assert.deepEqual(one.http.trustedproxies, ['172.16.0.0/12']);
    const list = loadConfig({ env: { REGISTRY_HTTP_TRUSTEDPROXIES: '[10.0.0.0/8, ::1]' } }).config;
    assert.deepEqual(list.http.trustedproxies, ['10.0.0.0/8', '::1']);
  });

  it('stops start-up on a bad range, naming the key, the entry, and where it came from', () => {
    const file = expectConfigError(() => loadConfig({ env: {}, file: configFile('http:\n  trustedproxies:\n    - 10.0.0.0/8\n    - 10.0.0.1/8\n') }));
    assert.match(file.message, /http\.trustedproxies\.1: "10\.0\.0\.1\/8" has bits set past its prefix.*\(line \d+\)/);
    const env = expectConfigError(() => loadConfig({ env: { REGISTRY_HTTP_TRUSTEDPROXIES: '10.0.0.0/8,192.168.0.0/16' } }));
    assert.match(env.message, /http\.trustedproxies\.0: .*prefix length.*REGISTRY_HTTP_TRUSTEDPROXIES/);
  });
});
