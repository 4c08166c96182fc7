import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseChallenge, TokenCache, tokenFromResponse } from './challenge.ts';

describe('parseChallenge', () => {
  it("reads Docker Hub's Bearer challenge", () => {
    const c = parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull"');
    assert.deepEqual(c, {
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/ubuntu:pull' },
    });
  });

  it('reads Basic, unquoted values, escapes and spaces', () => {
    assert.deepEqual(parseChallenge('Basic realm="a \\"b\\""'), { scheme: 'basic', params: { realm: 'a "b"' } });
    assert.deepEqual(parseChallenge('bearer realm=http://x/token, service=reg'), {
      scheme: 'bearer',
      params: { realm: 'http://x/token', service: 'reg' },
    });
  });

  it('ignores schemes it cannot answer and absent headers', () => {
    assert.equal(parseChallenge('Negotiate abc'), undefined);
    assert.equal(parseChallenge(undefined), undefined);
    assert.equal(parseChallenge(''), undefined);
  });
});

describe('tokens', () => {
  it('take token or access_token, and expire a little before expires_in (60 s when absent)', () => {
    assert.deepEqual(tokenFromResponse({ token: 't', expires_in: 300 }, 0), { token: 't', expiresAt: 270_000 });
    assert.deepEqual(tokenFromResponse({ access_token: 'a' }, 1000), { token: 'a', expiresAt: 1000 + 54_000 });
    assert.throws(() => tokenFromResponse({ expires_in: 300 }, 0), /without a token/);
  });

  it('are cached per scope until they expire, the oldest dropped past the bound', () => {
    const cache = new TokenCache(2);
    cache.set('a', { token: 'ta', expiresAt: 100 });
    assert.equal(cache.get('a', 99), 'ta');
    assert.equal(cache.get('a', 100), undefined);
    cache.set('a', { token: 'ta', expiresAt: 1000 });
    cache.set('b', { token: 'tb', expiresAt: 1000 });
    cache.set('c', { token: 'tc', expiresAt: 1000 });
    assert.equal(cache.get('a', 0), undefined);
    assert.equal(cache.get('b', 0), 'tb');
    assert.equal(cache.get('c', 0), 'tc');
  });
});
