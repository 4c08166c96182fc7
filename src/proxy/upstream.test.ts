import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BlobUnknownError, UpstreamUnavailableError } from '../registry/errors.ts';
import { UpstreamClient, upstreamError } from './upstream.ts';

type Route = (req: IncomingMessage, res: ServerResponse) => void;

async function serve(route: Route): Promise<{ url: string; host: string; close(): Promise<void> }> {
  const server = http.createServer(route);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function client(url: string, extra: Partial<ConstructorParameters<typeof UpstreamClient>[0]> = {}): UpstreamClient {
  return new UpstreamClient({ name: 'up', url, connectTimeoutMs: 2000, idleTimeoutMs: 2000, ...extra });
}

async function text(res: { body: IncomingMessage }): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('UpstreamClient: Bearer challenge', () => {
  const tokenRequests: URLSearchParams[] = [];
  const tokenAuth: (string | undefined)[] = [];
  let expiresIn = 300;
  let server: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    server = await serve((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/token') {
        tokenRequests.push(url.searchParams);
        tokenAuth.push(req.headers.authorization);
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ token: `tok ${url.searchParams.get('scope')}`, expires_in: expiresIn }));
        return;
      }
      const repo = /^\/v2\/(.+)\/manifests\//.exec(url.pathname)?.[1] ?? '';
      if (req.headers.authorization !== `Bearer tok repository:${repo}:pull`) {
        res.writeHead(401, {
          'WWW-Authenticate': `Bearer realm="${server.url}/token",service="test-registry",scope="repository:${repo}:pull"`,
        });
        res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      res.end(`manifest of ${repo}`);
    });
  });
  after(() => server.close());

  it('fetches a token from the realm once per scope and reuses it until it expires', async () => {
    const c = client(server.url, { username: 'mirror', password: 's3cret' });
    try {
      for (const repo of ['library/a', 'library/a', 'library/b', 'library/a']) {
        const res = await c.request('GET', `${repo}/manifests/latest`, { repository: repo });
        assert.equal(res.status, 200);
        assert.equal(await text(res), `manifest of ${repo}`);
      }
      assert.deepEqual(
        tokenRequests.map((q) => [q.get('service'), q.get('scope')]),
        [
          ['test-registry', 'repository:library/a:pull'],
          ['test-registry', 'repository:library/b:pull'],
        ],
      );
      assert.equal(tokenAuth[0], `Basic ${Buffer.from('mirror:s3cret').toString('base64')}`);

      expiresIn = 1; // lives 1 s
      tokenRequests.length = 0;
      await text(await c.request('GET', 'library/c/manifests/latest', { repository: 'library/c' }));
      await text(await c.request('GET', 'library/c/manifests/latest', { repository: 'library/c' }));
      assert.equal(tokenRequests.length, 1);
      await new Promise((r) => setTimeout(r, 1100));
      await text(await c.request('GET', 'library/c/manifests/latest', { repository: 'library/c' }));
      assert.equal(tokenRequests.length, 2, 'an expired token is renewed');
    } finally {
      c.close();
    }
  });

  it('asks anonymously when it has no credentials', async () => {
    tokenAuth.length = 0;
    const c = client(server.url);
    try {
      const res = await c.request('GET', 'library/d/manifests/latest', { repository: 'library/d' });
      assert.equal(res.status, 200);
      res.body.resume();
      assert.deepEqual(tokenAuth, [undefined]);
    } finally {
      c.close();
    }
  });
});

describe('UpstreamClient: Basic, redirects, failures', () => {
  let challenges = 0;
  let cdnAuthorization: string | undefined = 'unset';
  let cdn: Awaited<ReturnType<typeof serve>>;
  let server: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    cdn = await serve((req, res) => {
      cdnAuthorization = req.headers.authorization;
      res.end('blob bytes');
    });
    server = await serve((req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`) {
        challenges++;
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="registry"' });
        res.end();
        return;
      }
      if (req.url?.includes('/blobs/')) {
        res.writeHead(307, { Location: `${cdn.url.replace('127.0.0.1', 'localhost')}/object` });
        res.end();
      } else if (req.url?.includes('/stall')) {
        res.writeHead(200, { 'Content-Length': 100 });
        res.write('only part');
      } else if (req.url?.includes('/silent')) {
        // never answers
      } else res.end('ok');
    });
  });
  after(async () => {
    await server.close();
    await cdn.close();
  });

  it('answers a Basic challenge, then sends the credentials up front', async () => {
    const c = client(server.url, { username: 'u', password: 'p' });
    try {
      for (let i = 0; i < 3; i++) assert.equal(await text(await c.request('GET', 'r/manifests/1', { repository: 'r' })), 'ok');
      assert.equal(challenges, 1);
    } finally {
      c.close();
    }
  });

  it('follows a redirect to another origin without the credentials', async () => {
    const c = client(server.url, { username: 'u', password: 'p' });
    try {
      const res = await c.request('GET', 'r/blobs/sha256:00', { repository: 'r' });
      assert.equal(res.status, 200);
      assert.equal(await text(res), 'blob bytes');
      assert.equal(cdnAuthorization, undefined);
    } finally {
      c.close();
    }
  });

  it('cuts a transfer idle for longer than idleTimeout, and a request never answered', async () => {
    const c = client(server.url, { username: 'u', password: 'p', idleTimeoutMs: 200 });
    try {
      const res = await c.request('GET', 'r/stall', { repository: 'r' });
      await assert.rejects(text(res));
      await assert.rejects(c.request('GET', 'r/silent', { repository: 'r' }), (e: unknown) => {
        assert.ok(e instanceof UpstreamUnavailableError);
        assert.match(e.reason, /nothing received for 200 ms/);
        return true;
      });
    } finally {
      c.close();
    }
  });

  it('makes an unreachable upstream UpstreamUnavailableError', async () => {
    const gone = await serve(() => undefined);
    await gone.close();
    const c = client(gone.url);
    await assert.rejects(c.request('HEAD', 'r/manifests/1', { repository: 'r' }), (e: unknown) => {
      assert.ok(e instanceof UpstreamUnavailableError);
      assert.match(e.reason, /ECONNREFUSED/);
      return true;
    });
    c.close();
  });
});

describe('upstreamError', () => {
  it('keeps 404 (and refusals) as unknown; 429 and 5xx make the upstream unavailable with the reason', () => {
    const unknown = () => new BlobUnknownError('sha256:00');
    assert.ok(upstreamError('hub', 404, unknown) instanceof BlobUnknownError);
    assert.ok(upstreamError('hub', 401, unknown) instanceof BlobUnknownError);
    const limited = upstreamError('hub', 429, unknown);
    assert.ok(limited instanceof UpstreamUnavailableError);
    assert.equal(limited.message, 'upstream hub unavailable: rate limited by the upstream (429)');
    assert.deepEqual(upstreamError('hub', 502, unknown).detail, { upstream: 'hub', reason: 'upstream answered 502' });
  });
});
