/**
 * parseAddr: Go-style listen addresses as in distribution's http.addr.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAddr } from './addr.ts';

describe('parseAddr', () => {
  const valid: [string, string, number][] = [
    [':5000', '', 5000],
    ['0.0.0.0:5000', '0.0.0.0', 5000],
    ['127.0.0.1:5055', '127.0.0.1', 5055],
    ['localhost:443', 'localhost', 443],
    ['registry.example.com:5000', 'registry.example.com', 5000],
    ['[::1]:5000', '::1', 5000],
    ['[::]:80', '::', 80],
    [':0', '', 0],
    [':65535', '', 65535],
  ];
  for (const [addr, host, port] of valid) {
    it(`splits ${JSON.stringify(addr)}`, () => {
      assert.deepEqual(parseAddr(addr), { host, port });
    });
  }

  const invalid: [string, RegExp][] = [
    ['5000', /expected "host:port" or ":port"/],
    ['localhost', /expected "host:port" or ":port"/],
    [':65536', /out of range 0-65535/],
    [':99999', /out of range 0-65535/],
    [':http', /port "http" is not a number/],
    [':', /port "" is not a number/],
    ['localhost:-1', /not a number/],
    ['::1:5000', /must be in brackets/],
    ['[::1:5000', /bracketed IPv6/],
    ['[not-ip]:5000', /bracketed IPv6/],
    ['bad host:5000', /not a valid hostname/],
    ['http://localhost:5000', /not a valid hostname|brackets/],
  ];
  for (const [addr, message] of invalid) {
    it(`rejects ${JSON.stringify(addr)}`, () => {
      assert.throws(() => parseAddr(addr), (err: unknown) => {
        assert.ok(err instanceof TypeError);
        assert.match(err.message, message);
        return true;
      });
    });
  }
});
