/**
 * Discovery over real HTTP: /v1/_ping and /v1/search (Docker's JSON), /api/v1/search, stars,
 * descriptions and pull counts, with the visibility rules asserted for anonymous callers, owners,
 * organisation owners, team members, other users, admins, Basic and bearer credentials.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';
import { AuthClient, basicHeader, parseChallenge } from '../helpers/auth-client.ts';
import { SYSTEM } from '../../src/auth/principal.ts';

const users = {
  admin: { user: 'admin', password: 'admin-password-1' },
  alice: { user: 'alice', password: 'alice-password-1' },
  bob: { user: 'bob', password: 'bob-password-1' },
  carol: { user: 'carol', password: 'carol-password-1' },
};
type Who = keyof typeof users | 'anonymous';

interface V1Answer {
  query: string;
  num_results: number;
  num_pages: number;
  page: number;
  page_size: number;
  results: { name: string; description: string; star_count: number; is_official: boolean; is_automated: boolean }[];
}

describe('search', () => {
  let reg: TestRegistry;
  const get = (path: string, who: Who = 'anonymous', init: RequestInit = {}) =>
    fetch(`${reg.url}${path}`, { ...init, headers: { ...(who !== 'anonymous' && { authorization: basicHeader(users[who]) }), ...(init.headers as Record<string, string>) } });
  const v1 = async (query: string, who: Who = 'anonymous'): Promise<V1Answer> => {
    const res = await get(`/v1/search?${query}`, who);
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as V1Answer;
  };
  const names = async (query: string, who: Who = 'anonymous') => (await v1(query, who)).results.map((r) => r.name);

  before(async () => {
    reg = await startTestRegistry({ storage: 'inmemory' });
    const { accounts } = reg.running.access;
    await accounts.createUser(SYSTEM, 'admin', users.admin.password, true);
    for (const u of ['alice', 'bob', 'carol'] as const) await accounts.createUser(SYSTEM, u, users[u].password);
    await accounts.createOrg(SYSTEM, 'acme', 'alice');
    await accounts.createTeam(SYSTEM, 'acme', 'devs');
    await accounts.addTeamMember(SYSTEM, 'acme', 'devs', 'carol');
    await accounts.setTeamPermission(SYSTEM, 'acme', 'devs', 'acme/api', 'read');
    const admin = new AuthClient(reg.url, users.admin);
    const repos: [string, 'public' | 'private'][] = [
      ['library/nginx', 'public'],
      ['alice/nginx-proxy', 'public'],
      ['alice/secret-nginx', 'private'],
      ['bob/web-nginx', 'public'],
      ['acme/api', 'private'],
      ['acme/web', 'private'],
      ['bob/tools', 'public'],
    ];
    for (const [name, visibility] of repos) {
      await admin.pushImage(name, 'latest');
      await accounts.setVisibility(SYSTEM, name, visibility);
    }
  });
  after(() => reg.stop());

  it('answers /v1/_ping as a standalone registry', async () => {
    const res = await get('/v1/_ping');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-docker-registry-standalone'), 'true');
  });

  it("answers Docker's JSON, ranked: exact name, prefix, then words", async () => {
    const answer = await v1('q=nginx');
    assert.equal(answer.query, 'nginx');
    assert.equal(answer.num_results, 3);
    assert.equal(answer.num_pages, 1);
    assert.equal(answer.page, 1);
    assert.equal(answer.page_size, 25);
    assert.deepEqual(answer.results[0], { name: 'library/nginx', description: '', star_count: 0, pull_count: 0, is_official: true, is_automated: false });
    assert.deepEqual(answer.results.map((r) => r.name), ['library/nginx', 'alice/nginx-proxy', 'bob/web-nginx']);
  });

  it('paginates with n and page', async () => {
    const second = await v1('q=nginx&n=1&page=2');
    assert.equal(second.num_pages, 3);
    assert.equal(second.page_size, 1);
    assert.deepEqual(second.results.map((r) => r.name), ['alice/nginx-proxy']);
    assert.deepEqual((await v1('q=nginx&n=1&page=9')).results, []);
    assert.equal((await get('/v1/search?q=nginx&n=x')).status, 400);
  });

  it('shows private repositories only to who may pull them', async () => {
    assert.deepEqual((await names('q=nginx', 'alice')).sort(), ['alice/nginx-proxy', 'alice/secret-nginx', 'bob/web-nginx', 'library/nginx']);
    assert.equal((await v1('q=nginx', 'bob')).num_results, 3);
    assert.deepEqual(await names('q=acme'), []);
    assert.deepEqual(await names('q=acme', 'bob'), []);
    assert.deepEqual(await names('q=acme', 'carol'), ['acme/api']);
    assert.deepEqual((await names('q=acme', 'alice')).sort(), ['acme/api', 'acme/web']);
    assert.equal((await v1('q=', 'admin')).num_results, 7);
    assert.equal((await v1('q=')).num_results, 4);
  });

  it('honours bearer tokens with registry:catalog:search, and challenges tokens without it', async () => {
    const client = new AuthClient(reg.url, users.alice);
    const tokenUrl = `${reg.url}/auth/token`;
    const search = await client.token(tokenUrl, 'berth', 'registry:catalog:search');
    assert.ok(search);
    const res = await get('/v1/search?q=secret', 'anonymous', { headers: { authorization: `Bearer ${search}` } });
    assert.deepEqual(((await res.json()) as V1Answer).results.map((r) => r.name), ['alice/secret-nginx']);
    const other = await client.token(tokenUrl, 'berth', 'repository:alice/secret-nginx:pull');
    const refused = await get('/v1/search?q=secret', 'anonymous', { headers: { authorization: `Bearer ${other}` } });
    assert.equal(refused.status, 401);
    assert.equal(parseChallenge(refused.headers.get('www-authenticate'))?.params['scope'], 'registry:catalog:search');
    assert.equal((await get('/v1/search?q=x', 'anonymous', { headers: { authorization: basicHeader({ user: 'alice', password: 'wrong-password' }) } })).status, 401);
  });

  it('stars and unstars per user, for who may pull', async () => {
    const star = (name: string, who: Who, method = 'PUT') => get(`/api/v1/repositories/${name}/_star`, who, { method });
    assert.equal((await star('library/nginx', 'anonymous')).status, 401);
    assert.deepEqual(await (await star('library/nginx', 'alice')).json(), { name: 'library/nginx', starCount: 1, starred: true });
    assert.equal(((await (await star('library/nginx', 'alice')).json()) as { starCount: number }).starCount, 1);
    await star('library/nginx', 'bob');
    await star('bob/web-nginx', 'bob');
    assert.equal((await star('alice/secret-nginx', 'bob')).status, 403, 'a private repository and a missing one look alike (403 to users, as on /v2/)');
    const repo = (await (await get('/api/v1/repositories/library/nginx', 'alice')).json()) as Record<string, unknown>;
    assert.equal(repo['starCount'], 2);
    assert.equal(repo['starred'], true);
    assert.equal(repo['isOfficial'], true);
    assert.equal((await v1('q=nginx')).results[0]?.star_count, 2);
    await star('library/nginx', 'bob', 'DELETE');
    assert.equal((await v1('q=nginx')).results[0]?.star_count, 1);
  });

  it('lets writers edit descriptions, which search then finds', async () => {
    const patch = (name: string, who: Who, body: object) =>
      get(`/api/v1/repositories/${name}`, who, { method: 'PATCH', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    assert.equal((await patch('alice/nginx-proxy', 'bob', { description: 'mine now' })).status, 403);
    const res = await patch('alice/nginx-proxy', 'alice', { description: 'A reverse proxy', fullDescription: '# Proxy\n\nUse it.' });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body['description'], 'A reverse proxy');
    assert.equal(body['fullDescription'], '# Proxy\n\nUse it.');
    assert.equal((await patch('alice/nginx-proxy', 'alice', { description: 'two\nlines' })).status, 400);
    assert.deepEqual(await names('q=reverse'), ['alice/nginx-proxy']);
    assert.equal((await v1('q=reverse')).results[0]?.description, 'A reverse proxy');
  });

  it('counts pulls in memory and writes them in batches', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await get('/v2/bob/tools/manifests/latest')).status, 200);
    await reg.running.search.pulls.flush();
    const repo = (await (await get('/api/v1/repositories/bob/tools')).json()) as Record<string, unknown>;
    assert.equal(repo['pullCount'], 3);
  });

  it('filters, sorts and paginates /api/v1/search', async () => {
    type Api = { total: number; pages: number; results: { name: string; starCount: number }[] };
    const api = async (query: string, who: Who = 'anonymous') => (await (await get(`/api/v1/search?${query}`, who)).json()) as Api;
    assert.deepEqual((await api('q=nginx&official=true')).results.map((r) => r.name), ['library/nginx']);
    assert.deepEqual((await api('q=nginx&namespace=alice', 'alice')).results.map((r) => r.name).sort(), ['alice/nginx-proxy', 'alice/secret-nginx']);
    assert.deepEqual((await api('stars=1')).results.map((r) => r.name).sort(), ['bob/web-nginx', 'library/nginx']);
    assert.deepEqual((await api('sort=pulls&per_page=1')).results.map((r) => r.name), ['bob/tools']);
    const page = await api('per_page=2&page=2&sort=stars');
    assert.equal(page.total, 4);
    assert.equal(page.pages, 2);
    assert.equal(page.results.length, 2);
    assert.equal((await get('/api/v1/search?sort=bogus')).status, 400);
  });

  it('forgets a repository in the same transaction as its last manifest is deleted', async () => {
    const admin = new AuthClient(reg.url, users.admin);
    const head = await admin.fetch('/v2/bob/web-nginx/manifests/latest', { method: 'HEAD' });
    const digest = head.headers.get('docker-content-digest');
    assert.ok(digest);
    assert.equal((await admin.fetch(`/v2/bob/web-nginx/manifests/${digest}`, { method: 'DELETE' })).status, 202);
    assert.deepEqual(await names('q=web-nginx'), []);
    await admin.pushImage('bob/web-nginx', 'latest');
    assert.deepEqual(await names('q=web-nginx'), ['bob/web-nginx']);
  });
});
