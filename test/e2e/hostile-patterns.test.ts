/**
 * Patterns from users cannot hold the server: a namespace owner's retention policy and an
 * administrator's immutable tag rule with many stars, against a long repository name and a long
 * tag. Compiled to RegExps (as before registry/glob.ts), each match took some 50 s, holding every
 * other request meanwhile; the suite's timeout then fails it once the first match ends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM } from '../../src/auth/principal.ts';
import { api } from '../helpers/api.ts';
import { AuthClient, type Credentials } from '../helpers/auth-client.ts';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';

const alice: Credentials = { user: 'alice', password: 'alice-password-1' };
const admin: Credentials = { user: 'boss', password: 'boss-password-1' };

describe('hostile glob patterns', { timeout: 20_000 }, () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startTestRegistry({ config: { storage: { delete: { enabled: true } } } });
    await reg.running.access.accounts.createUser(SYSTEM, admin.user, admin.password, true);
    await reg.running.access.accounts.createUser(SYSTEM, alice.user, alice.password);
  });
  after(() => reg?.stop());

  it("a namespace owner's many-star retention pattern against a long name: the policy, its preview and the server answer", async () => {
    const call = api(reg.url);
    const repo = `alice/${'a'.repeat(120)}`;
    await new AuthClient(reg.url, alice, 'basic').pushImage(repo, 'v1');
    const pattern = `alice/${'*a'.repeat(5)}*b`;
    const put = await call('PUT', '/api/v1/retention/policies', { as: alice, body: { repository: pattern, keep: { newest: 1 } } });
    assert.equal(put.status, 200, put.text);
    const [own, preview, ping] = await Promise.all([
      call('GET', `/api/v1/repositories/${repo}/_retention`, { as: alice }),
      call('GET', `/api/v1/retention/preview?pattern=${encodeURIComponent(pattern)}`, { as: alice }),
      fetch(`${reg.url}/v2/`),
    ]);
    assert.equal(own.status, 200, own.text);
    assert.equal(preview.status, 200, preview.text);
    assert.equal(ping.status, 401, 'an anonymous request is answered meanwhile');
    assert.equal((await reg.running.retention.preview()).repositories.length, 0, 'the pattern covers no repository (the name has no b)');
  });

  it("an administrator's many-star immutable tag glob against a long tag: pushes and deletes answer", async () => {
    const call = api(reg.url);
    const rule = await call('PUT', '/api/v1/admin/immutable', { as: admin, body: { repository: 'alice/*', tags: ['*.*.*.*.*.*-rc'] } });
    assert.equal(rule.status, 200, rule.text);
    const client = new AuthClient(reg.url, alice, 'basic');
    const tag = `${'1.'.repeat(63)}x`;
    await client.pushImage('alice/tags', tag);
    await client.pushImage('alice/tags', tag, { layer: 'moved: the glob does not hold it' });
    const held = `${'1.'.repeat(60)}1-rc`;
    await client.pushImage('alice/tags', held);
    await assert.rejects(client.pushImage('alice/tags', held, { layer: 'moving it' }), /403/, 'the glob holds this one');
  });
});
