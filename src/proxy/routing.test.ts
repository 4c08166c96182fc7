import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema } from '../config/schema.ts';
import { mirrorNamespaces, routesFromConfig, UpstreamRouter } from './routing.ts';

function routerFor(proxy: object): UpstreamRouter {
  const config = configSchema.parse({ proxy });
  if (config.proxy === undefined) throw new Error('no proxy section');
  return new UpstreamRouter(routesFromConfig(config.proxy));
}

describe('UpstreamRouter', () => {
  it('maps a prefix to the remote prefix, the longest prefix first, and leaves other names local', () => {
    const router = routerFor({
      upstreams: [
        { name: 'hub', prefix: 'docker.io/', url: 'https://registry-1.docker.io' },
        { name: 'official', prefix: 'library/', remoteprefix: 'library/', url: 'https://registry-1.docker.io', ttl: '1m' },
        { name: 'ghcr-org', prefix: 'docker.io/org/', remoteprefix: 'mirror/', url: 'https://ghcr.io' },
      ],
    });
    assert.deepEqual(
      [router.claim('docker.io/library/ubuntu'), router.claim('library/busybox'), router.claim('docker.io/org/app')].map((c) => [c?.route.name, c?.remote]),
      [
        ['hub', 'library/ubuntu'],
        ['official', 'library/busybox'],
        ['ghcr-org', 'mirror/app'],
      ],
    );
    assert.equal(router.claim('alice/app'), undefined);
    assert.equal(router.claim('docker.io'), undefined);
    assert.equal(router.claim('library/busybox')?.route.ttlMs, 60_000);
    assert.equal(router.claim('docker.io/x/y')?.route.ttlMs, 300_000);
  });

  it("treats distribution's remoteurl as claiming every name no prefix claims, named after its host", () => {
    const router = routerFor({ remoteurl: 'https://registry-1.docker.io', username: 'u', password: 'p', ttl: '1h', upstreams: [{ name: 'q', prefix: 'quay/', url: 'https://quay.io' }] });
    const claim = router.claim('alice/app');
    assert.deepEqual([claim?.route.name, claim?.remote, claim?.route.username, claim?.route.ttlMs], ['registry-1.docker.io', 'alice/app', 'u', 3_600_000]);
    assert.equal(router.claim('quay/x')?.route.name, 'q');
  });
});

describe('mirrorNamespaces', () => {
  it('reserves the first component of every prefix, none for the empty one (remoteurl)', () => {
    const proxy = configSchema.parse({
      proxy: {
        remoteurl: 'https://registry-1.docker.io',
        upstreams: [
          { name: 'ghcr', prefix: 'ghcr.io/', url: 'https://ghcr.io' },
          { name: 'hub', prefix: 'mirror/hub/', url: 'https://registry-1.docker.io' },
          { name: 'quay', prefix: 'mirror/quay/', url: 'https://quay.io' },
        ],
      },
    }).proxy;
    assert.deepEqual(mirrorNamespaces(proxy), ['ghcr.io', 'mirror']);
    assert.deepEqual(mirrorNamespaces(configSchema.parse({ proxy: { remoteurl: 'https://x' } }).proxy), []);
    assert.deepEqual(mirrorNamespaces(undefined), []);
  });
});

describe('proxy config', () => {
  it('refuses an empty section, unpaired credentials, duplicate names and prefixes, and bad prefixes', () => {
    const problems = (proxy: object) => {
      const r = configSchema.safeParse({ proxy });
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    assert.deepEqual(problems({}), ['proxy: set proxy.remoteurl or list proxy.upstreams']);
    assert.deepEqual(problems({ remoteurl: 'https://x', username: 'u' }), ['proxy.password: username and password go together']);
    assert.deepEqual(problems({ remoteurl: 'ftp://x' }), ['proxy.remoteurl: must be an absolute http:// or https:// URL']);
    const u = { url: 'https://x' };
    assert.deepEqual(
      problems({ upstreams: [{ ...u, name: 'a', prefix: 'a/' }, { ...u, name: 'a', prefix: 'a/' }, { ...u, name: 'b', prefix: 'b' }] }),
      ['proxy.upstreams.2.prefix: must be empty or end with "/" (e.g. "docker.io/")', 'proxy.upstreams.1.name: duplicate upstream name "a"', 'proxy.upstreams.1.prefix: prefix "a/" is claimed twice'],
    );
    assert.deepEqual(problems({ remoteurl: 'https://x', upstreams: [{ ...u, name: 'all', prefix: '' }] }), ['proxy.upstreams.0.prefix: prefix "" is claimed twice']);
  });
});
