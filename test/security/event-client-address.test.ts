/**
 * The client address notification events record (request.addr): distribution takes
 * X-Forwarded-For's first entry (or X-Real-IP) from anyone, so any client could write what the
 * audit trail says about it. berth reads X-Forwarded-For only from `http.trustedproxies`, from the
 * right, as the login throttle does (http/client-address.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';
import { TestReceiver } from '../../src/events/test-receiver.ts';

let receiver: TestReceiver;
before(async () => {
  receiver = await TestReceiver.start();
});
after(() => receiver.down());

let pushes = 0;

/** Push a small blob with `headers` and return the request.addr of its event. */
async function pushedFrom(reg: TestRegistry, headers: Record<string, string>): Promise<string> {
  const body = `blob ${++pushes}`;
  const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  const res = await fetch(`${reg.url}/v2/team/app/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', ...headers }, body });
  assert.equal(res.status, 201);
  await receiver.waitFor(`the event of ${digest}`, () => receiver.accepted.some((e) => e.target.digest === digest));
  return receiver.accepted.find((e) => e.target.digest === digest)?.request.addr ?? '';
}

function useRegistry(trustedproxies: string[]): () => TestRegistry {
  let reg: TestRegistry | undefined;
  before(async () => {
    reg = await startTestRegistry({ storage: 'inmemory', config: { http: { trustedproxies }, notifications: { endpoints: [{ name: 'hook', url: receiver.url, backoff: '10ms' }] } } });
  });
  after(() => reg?.stop());
  return () => {
    if (reg === undefined) throw new Error('registry not started');
    return reg;
  };
}

describe('event request.addr from a peer that is not a trusted proxy', () => {
  const reg = useRegistry([]);

  it('is the connection, whatever X-Forwarded-For or X-Real-IP say', async () => {
    assert.match(await pushedFrom(reg(), { 'x-forwarded-for': '198.51.100.66' }), /^127\.0\.0\.1:\d+$/);
    assert.match(await pushedFrom(reg(), { 'x-real-ip': '198.51.100.66' }), /^127\.0\.0\.1:\d+$/);
  });
});

describe('event request.addr behind a trusted proxy', () => {
  const reg = useRegistry(['127.0.0.0/8']);

  it('is the client the proxy saw, not what the client wrote before it', async () => {
    assert.equal(await pushedFrom(reg(), { 'x-forwarded-for': '198.51.100.66, 203.0.113.7' }), '203.0.113.7');
    assert.match(await pushedFrom(reg(), {}), /^127\.0\.0\.1:\d+$/, 'no header: the connection');
  });
});
