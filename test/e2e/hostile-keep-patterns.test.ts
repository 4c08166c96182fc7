/**
 * A namespace owner's retention keep patterns cannot hold the server (review finding): alice's
 * policy keeps tags matching `^(a+)+$`, and her ten repositories each have a long tag of a's ending
 * in "-". The old engine (JavaScript RegExps in a vm under a 1 s limit) spent a second per
 * repository per request on the server's only thread, so the preview, the repository page, her
 * other requests and anyone's GET /v2/ waited about 10 s each: the test's 8 s limit fails it. RE2
 * answers at once. And what RE2 cannot run (backreferences, lookaround) is refused when the policy
 * is written: 400 from the API, exit 78 from `berth config check`, never at match time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM } from '../../src/auth/principal.ts';
import { EX_CONFIG } from '../../src/cli/command.ts';
import { runBerth } from '../../src/cli/test-support.ts';
import { configFiles } from '../../src/config/test-support.ts';
import { api } from '../helpers/api.ts';
import { AuthClient, type Credentials } from '../helpers/auth-client.ts';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';

const alice: Credentials = { user: 'alice', password: 'alice-password-1' };
const admin: Credentials = { user: 'boss', password: 'boss-password-1' };
const REPOSITORIES = Array.from({ length: 10 }, (_, i) => `alice/app${i}`);
/** The longest tag there is, that ^(a+)+$ fails to match only after trying every split of its a's. */
const EVIL = `${'a'.repeat(127)}-`;
const configFile = configFiles('hostile-keep');

interface PlanView {
  repositories: { repository: string; error: string | null; tags: { tag: string; action: string; rule: string }[] }[];
}

describe('hostile keep patterns', () => {
  let reg: TestRegistry;
  const call = (...a: Parameters<ReturnType<typeof api>>) => api(reg.url)(...a);
  before(async () => {
    reg = await startTestRegistry({ config: { storage: { delete: { enabled: true } } } });
    await reg.running.access.accounts.createUser(SYSTEM, admin.user, admin.password, true);
    await reg.running.access.accounts.createUser(SYSTEM, alice.user, alice.password);
    const client = new AuthClient(reg.url, alice, 'basic');
    for (const repo of REPOSITORIES) {
      await client.pushImage(repo, EVIL);
      await client.pushImage(repo, 'a'.repeat(128), { layer: `${repo}: kept` });
    }
  });
  after(() => reg?.stop());

  it('^(a+)+$ against the longest tags in ten repositories: previews, the repository page and the server answer at once', { timeout: 8000 }, async () => {
    const put = await call('PUT', '/api/v1/retention/policies', { as: alice, body: { repository: 'alice/*', keep: { tags: ['^(a+)+$'] } } });
    assert.equal(put.status, 200, put.text);
    const [own, preview, all, ping] = await Promise.all([
      call('GET', `/api/v1/repositories/${REPOSITORIES[0]}/_retention`, { as: alice }),
      call('GET', `/api/v1/retention/preview?pattern=${encodeURIComponent('alice/*')}`, { as: alice }),
      call('GET', '/api/v1/retention/preview', { as: admin }),
      fetch(`${reg.url}/v2/`),
    ]);
    assert.equal(own.status, 200, own.text);
    assert.equal(ping.status, 401, 'an anonymous request is answered meanwhile');
    for (const answer of [preview, all]) {
      assert.equal(answer.status, 200, answer.text);
      const plan = answer.body as PlanView;
      assert.deepEqual(plan.repositories.map((r) => r.repository), REPOSITORIES);
      for (const r of plan.repositories) {
        assert.equal(r.error, null);
        assert.deepEqual(r.tags.map((t) => `${t.tag.length}:${t.action}:${t.rule}`), ['128:delete:unkept', '128:keep:keep.tags'], r.repository);
      }
    }
    // A garbage collection run applies it: the tag the pattern does not match goes, the other stays.
    const report = await reg.running.retention.apply(false);
    assert.deepEqual(report.repositories.map((r) => [r.repository, r.deletedTags, r.errors]), REPOSITORIES.map((name) => [name, [EVIL], []]));
    const left = await call('GET', `/v2/${REPOSITORIES[0]}/tags/list`, { as: alice });
    assert.deepEqual((left.body as { tags: string[] }).tags, ['a'.repeat(128)]);
  });

  it('the API refuses what RE2 cannot run, with 400 naming the key and why', async () => {
    const refused = async (pattern: string, why: RegExp) => {
      const answer = await call('PUT', '/api/v1/retention/policies', { as: alice, body: { repository: 'alice/app0', keep: { tags: ['^v', pattern] } } });
      assert.equal(answer.status, 400, pattern);
      assert.match(answer.text, /keep\.tags\.1: /, pattern);
      assert.match(answer.text, why, pattern);
    };
    await refused('^(v)\\1$', /backreferences are not supported/);
    await refused('^(?<v>v)\\k<v>$', /backreferences are not supported/);
    await refused('^v(?=[0-9])', /lookahead and lookbehind are not supported/);
    await refused('(?<!rc)$', /lookahead and lookbehind are not supported/);
    await refused('(\\w?){100}\\w{100}', /too complex: it compiles to 502 instructions, at most 500/);
    const heavy = '(\\w?){60}\\w{60}';
    const together = await call('PUT', '/api/v1/retention/policies', { as: alice, body: { repository: 'alice/app0', keep: { tags: [heavy, heavy, heavy, '(\\w?){30}\\w{30}'] } } });
    assert.equal(together.status, 400);
    assert.match(together.text, /keep\.tags: the keep patterns compile to 1058 instructions together, at most 1000/);
    const policies = await call('GET', '/api/v1/retention/policies', { as: alice });
    assert.ok(!policies.text.includes('alice/app0'), 'nothing refused was stored');
  });

  it('berth config check refuses a backreference: exit 78, the key and why on stderr', async () => {
    const file = configFile('retention:\n  policies:\n    - repository: "acme/*"\n      keep: { tags: ["^v", "^(v)\\\\1"] }\n');
    const { code, stdout, stderr } = await runBerth(['config', 'check', '--config', file]);
    assert.equal(code, EX_CONFIG);
    assert.equal(stdout, '');
    assert.match(stderr, /retention\.policies\.0\.keep\.tags\.1: "\^\(v\)\\\\1" is not a valid regular expression \(RE2 syntax: backreferences are not supported\)/);
    const good = await runBerth(['config', 'check', '--config', configFile('retention:\n  policies:\n    - repository: "acme/*"\n      keep: { tags: ["^(a+)+$", "(?i)^v[0-9]"] }\n')]);
    assert.equal(good.code, 0, good.stderr);
  });
});
