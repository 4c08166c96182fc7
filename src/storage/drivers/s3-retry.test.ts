/**
 * The S3 client's retries, as clientConfig sets them up, against a local node:http server playing
 * S3 with scripted answers: 5xx and SlowDown are retried with backoff (jittered exponential delays,
 * longer for throttling) until the answer succeeds; a 4xx is not retried. Math.random is pinned so
 * the jitter, and so the delays the SDK reports, are known. Also: the AWS SDK's own variables
 * (AWS_REGION, AWS_ACCESS_KEY_ID, ...) do not override what the settings say.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { PathNotFoundError } from '../driver.ts';
import { s3Schema } from '../../config/s3-schema.ts';
import { createClient, type S3Settings } from './s3-client.ts';
import { createS3Driver } from './s3.ts';

interface Answer {
  status: number;
  code?: string;
  body?: string;
}

/** One request as the server saw it: when it arrived (ms), its method and path. */
interface Seen {
  at: number;
  method: string;
  url: string;
}

const errorXml = (code: string) => `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message><RequestId>r</RequestId></Error>`;

describe('S3 client retries (local server)', () => {
  let server: Server;
  let script: Answer[] = [];
  let seen: Seen[] = [];
  let settings: S3Settings;

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      seen.push({ at: performance.now(), method: req.method ?? '', url: req.url ?? '' });
      req.resume();
      req.on('end', () => {
        const answer = script.shift() ?? { status: 200, body: 'ok' };
        if (answer.code !== undefined) {
          res.writeHead(answer.status, { 'content-type': 'application/xml' }).end(errorXml(answer.code));
        } else {
          const body = Buffer.from(answer.body ?? '');
          res.writeHead(answer.status, { 'content-type': 'application/octet-stream', 'content-length': body.length, etag: '"e"' }).end(body);
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    settings = s3Schema.parse({
      bucket: 'b',
      region: 'us-east-1',
      regionendpoint: `127.0.0.1:${port}`,
      secure: false,
      forcepathstyle: true,
      accesskey: 'key',
      secretkey: 'secret',
      checksums: 'when_required',
    });
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const run = (answers: Answer[]) => {
    script = [...answers];
    seen = [];
  };
  const gaps = () => seen.slice(1).map((s, i) => s.at - (seen[i]?.at ?? 0));

  it('retries 503 twice with growing delays, then returns the object', async (t) => {
    t.mock.method(Math, 'random', () => 0.5);
    run([{ status: 503, code: 'ServiceUnavailable' }, { status: 503, code: 'ServiceUnavailable' }, { status: 200, body: 'hello' }]);
    const client = createClient(settings);
    const out = await client.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }));
    assert.equal(await out.Body?.transformToString(), 'hello');
    assert.equal(seen.length, 3);
    assert.ok(seen.every((s) => s.method === 'GET' && s.url.startsWith('/b/k')));
    assert.equal(out.$metadata.attempts, 3);
    // standard mode: delay = random * base * 2^retry, base 50 ms for a server error
    assert.equal(out.$metadata.totalRetryDelay, 25 + 50);
    const [first, second] = gaps();
    assert.ok(first !== undefined && second !== undefined && first >= 24 && second >= 49, `gaps ${gaps().join(', ')} ms`);
    client.destroy();
  });

  it('retries SlowDown (throttling) with the longer throttling backoff, and 500/502/504 alike', async (t) => {
    t.mock.method(Math, 'random', () => 0.5);
    run([{ status: 503, code: 'SlowDown' }, { status: 200, body: 'slow' }]);
    const client = createClient(settings);
    const out = await client.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }));
    assert.equal(await out.Body?.transformToString(), 'slow');
    assert.equal(out.$metadata.attempts, 2);
    assert.equal(out.$metadata.totalRetryDelay, 500, 'throttling base 1 s, halved by the pinned jitter');
    assert.ok((gaps()[0] ?? 0) >= 499);

    run([{ status: 500, code: 'InternalError' }, { status: 502, code: 'BadGateway' }, { status: 504, code: 'GatewayTimeout' }, { status: 200, body: 'x' }]);
    const again = await client.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }));
    assert.equal(again.$metadata.attempts, 4);
    client.destroy();
  });

  it('through the driver: a read survives two 503s', async (t) => {
    t.mock.method(Math, 'random', () => 0);
    run([{ status: 503, code: 'ServiceUnavailable' }, { status: 503, code: 'ServiceUnavailable' }, { status: 200, body: 'content' }]);
    const driver = createS3Driver(settings);
    assert.equal((await driver.getContent('/a/b')).toString(), 'content');
    assert.equal(seen.length, 3);
  });

  it('gives up after 5 attempts of 503', async (t) => {
    t.mock.method(Math, 'random', () => 0);
    run(Array.from({ length: 6 }, () => ({ status: 503, code: 'ServiceUnavailable' })));
    const client = createClient(settings);
    await assert.rejects(client.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' })), (err: unknown) => {
      assert.ok(err instanceof S3ServiceException);
      assert.equal(err.$metadata.httpStatusCode, 503);
      assert.equal(err.$metadata.attempts, 5);
      return true;
    });
    assert.equal(seen.length, 5);
    client.destroy();
  });

  it('does not retry a 4xx: 403, 400, 404 are answered once', async () => {
    const client = createClient(settings);
    for (const [status, code] of [[403, 'AccessDenied'], [400, 'InvalidRequest'], [404, 'NoSuchKey']] as const) {
      run([{ status, code }, { status: 200, body: 'never' }]);
      await assert.rejects(client.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' })), (err: unknown) => {
        assert.ok(err instanceof S3ServiceException, String(err));
        assert.equal(err.name, code);
        assert.equal(err.$metadata.attempts, 1);
        return true;
      });
      assert.equal(seen.length, 1, `${status} ${code} sent once`);
    }
    run([{ status: 404, code: 'NoSuchKey' }]);
    await assert.rejects(createS3Driver(settings).getContent('/missing'), PathNotFoundError);
    client.destroy();
  });
});

describe("the AWS SDK's own variables do not override the settings", () => {
  it('region and keys come from the settings even with AWS_REGION and AWS_ACCESS_KEY_ID set', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_REGION: 'eu-north-1', AWS_ACCESS_KEY_ID: 'ENVKEY', AWS_SECRET_ACCESS_KEY: 'envsecret' });
    try {
      const client = createClient(s3Schema.parse({ bucket: 'b', region: 'ap-south-1', accesskey: 'cfgkey', secretkey: 'cfgsecret' }));
      assert.equal(await client.config.region(), 'ap-south-1');
      const credentials = await client.config.credentials();
      assert.deepEqual([credentials.accessKeyId, credentials.secretAccessKey], ['cfgkey', 'cfgsecret']);
      client.destroy();
      const chain = createClient(s3Schema.parse({ bucket: 'b', region: 'ap-south-1' }));
      assert.equal(await chain.config.region(), 'ap-south-1');
      assert.equal((await chain.config.credentials()).accessKeyId, 'ENVKEY', 'no keys configured: the SDK chain, which reads the environment');
      chain.destroy();
    } finally {
      for (const name of ['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  });
});
