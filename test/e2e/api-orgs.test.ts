/**
 * The management API for organisations, members, teams and team permissions over real HTTP:
 * each route's success and its refusals (anonymous 401, non-owner 403, unknown 404, taken 409,
 * bad body 400), and that a team's grant really opens the repository to its members.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { useTestRegistry } from '../helpers/inproc.ts';
import { api } from '../helpers/api.ts';
import { AuthClient, type Credentials } from '../helpers/auth-client.ts';
import { SYSTEM } from '../../src/auth/principal.ts';
import { paths } from '../../src/http/routes.ts';

const ops: Credentials = { user: 'ops', password: 'ops-password' };
const alice: Credentials = { user: 'alice', password: 'alice-password' };
const bob: Credentials = { user: 'bob', password: 'bob-password' };
const carol: Credentials = { user: 'carol', password: 'carol-password' };

interface OrgBody {
  name: string;
  members: { user: string; owner: boolean }[];
  teams: { name: string; members: string[]; permissions: { repository: string; role: string }[] }[];
}

describe('management API: organisations and teams', () => {
  const t = useTestRegistry();
  const call = (...a: Parameters<ReturnType<typeof api>>) => api(t.reg.url)(...a);
  before(async () => {
    const accounts = t.reg.running.access.accounts;
    await accounts.createUser(SYSTEM, ops.user, ops.password, true);
    for (const u of [alice, bob, carol]) await accounts.createUser(SYSTEM, u.user, u.password);
  });

  it('creates organisations owned by the caller, or by whom an administrator names', async () => {
    const made = await call('POST', paths.apiOrgs(), { as: alice, body: { name: 'acme' } });
    assert.equal(made.status, 201, made.text);
    assert.equal(made.headers.get('location'), '/api/v1/orgs/acme');
    const org = made.body as OrgBody;
    assert.deepEqual([org.name, org.members, org.teams], ['acme', [{ user: 'alice', owner: true }], []]);

    assert.equal((await call('POST', paths.apiOrgs(), { as: ops, body: { name: 'globex', owner: 'bob' } })).status, 201);
    assert.equal((await call('POST', paths.apiOrgs(), { as: bob, body: { name: 'initech', owner: 'alice' } })).status, 403);
    assert.equal((await call('POST', paths.apiOrgs(), { body: { name: 'initech' } })).status, 401);
    assert.equal((await call('POST', paths.apiOrgs(), { as: ops, body: { name: 'initech', owner: 'nobody' } })).status, 404);
    assert.equal((await call('POST', paths.apiOrgs(), { as: bob, body: { name: 'acme' } })).code, 'CONFLICT');
    assert.equal((await call('POST', paths.apiOrgs(), { as: bob, body: { name: 'alice' } })).code, 'CONFLICT', 'users and organisations share names');
    for (const body of [{ name: 'Acme Corp' }, { name: 'library' }, {}, { name: 'x1', members: [] }, 'acme']) {
      assert.equal((await call('POST', paths.apiOrgs(), { as: bob, body })).code, 'REQUEST_INVALID', JSON.stringify(body));
    }
  });

  it('lists my organisations, and all of them to administrators', async () => {
    const names = async (who?: Credentials) => {
      const res = await call('GET', paths.apiOrgs(), who && { as: who });
      return res.status === 200 ? (res.body as { orgs: { name: string }[] }).orgs.map((o) => o.name) : res.status;
    };
    assert.deepEqual(await names(alice), ['acme']);
    assert.deepEqual(await names(bob), ['globex']);
    assert.deepEqual(await names(carol), []);
    assert.deepEqual(await names(ops), ['acme', 'globex']);
    assert.equal(await names(), 401);
  });

  it('shows an organisation to its members and administrators; to others it does not exist', async () => {
    assert.equal((await call('GET', paths.apiOrg('acme'), { as: alice })).status, 200);
    assert.equal((await call('GET', paths.apiOrg('acme'), { as: ops })).status, 200);
    assert.equal((await call('GET', paths.apiOrg('acme'), { as: bob })).status, 404);
    assert.equal((await call('GET', paths.apiOrg('acme'))).status, 401);
    assert.equal((await call('GET', paths.apiOrg('nothing'), { as: ops })).status, 404);
  });

  it('adds, promotes and removes members: owners only', async () => {
    assert.equal((await call('PUT', paths.apiOrgMember('acme', 'bob'), { as: bob })).status, 403);
    assert.equal((await call('PUT', paths.apiOrgMember('acme', 'bob'))).status, 401);
    assert.equal((await call('PUT', paths.apiOrgMember('acme', 'bob'), { as: alice, body: { owner: 'yes' } })).status, 400);
    assert.equal((await call('PUT', paths.apiOrgMember('acme', 'nobody'), { as: alice })).status, 404);
    assert.equal((await call('PUT', paths.apiOrgMember('nothing', 'bob'), { as: ops })).status, 404);
    assert.equal((await call('PUT', paths.apiOrgMember('acme', 'bob'), { as: alice })).status, 204);
    assert.equal((await call('GET', paths.apiOrg('acme'), { as: bob })).status, 200);
    assert.equal((await call('PUT', paths.apiOrgMember('acme', 'carol'), { as: bob })).status, 403, 'a member is not an owner');
    assert.equal((await call('PUT', paths.apiOrgMember('acme', 'bob'), { as: alice, body: { owner: true } })).status, 204);
    assert.deepEqual(((await call('GET', paths.apiOrg('acme'), { as: bob })).body as OrgBody).members, [
      { user: 'alice', owner: true },
      { user: 'bob', owner: true },
    ]);

    assert.equal((await call('DELETE', paths.apiOrgMember('acme', 'bob'), { as: carol })).status, 403);
    assert.equal((await call('DELETE', paths.apiOrgMember('acme', 'bob'))).status, 401);
    assert.equal((await call('DELETE', paths.apiOrgMember('acme', 'bob'), { as: alice })).status, 204);
    assert.equal((await call('DELETE', paths.apiOrgMember('acme', 'bob'), { as: alice })).status, 404);
    const last = await call('DELETE', paths.apiOrgMember('acme', 'alice'), { as: alice });
    assert.equal(last.code, 'REQUEST_INVALID', 'the last owner stays');
    const demoted = await call('PUT', paths.apiOrgMember('acme', 'alice'), { as: alice, body: { owner: false } });
    assert.equal(demoted.code, 'REQUEST_INVALID', 'the last owner stays an owner');
  });

  it('creates and deletes teams: owners only', async () => {
    const made = await call('POST', paths.apiTeams('acme'), { as: alice, body: { name: 'devs' } });
    assert.equal(made.status, 201, made.text);
    assert.equal(made.headers.get('location'), '/api/v1/orgs/acme/teams/devs');
    assert.equal((await call('POST', paths.apiTeams('acme'), { as: alice, body: { name: 'devs' } })).code, 'CONFLICT');
    assert.equal((await call('POST', paths.apiTeams('acme'), { as: bob, body: { name: 'ops' } })).status, 403);
    assert.equal((await call('POST', paths.apiTeams('acme'), { body: { name: 'ops' } })).status, 401);
    assert.equal((await call('POST', paths.apiTeams('nothing'), { as: ops, body: { name: 'ops' } })).status, 404);
    for (const body of [{ name: 'Dev Team' }, {}, { name: 3 }]) assert.equal((await call('POST', paths.apiTeams('acme'), { as: alice, body })).status, 400);

    assert.equal((await call('POST', paths.apiTeams('acme'), { as: alice, body: { name: 'temp' } })).status, 201);
    assert.equal((await call('DELETE', paths.apiTeam('acme', 'temp'), { as: bob })).status, 403);
    assert.equal((await call('DELETE', paths.apiTeam('acme', 'temp'))).status, 401);
    assert.equal((await call('DELETE', paths.apiTeam('acme', 'temp'), { as: alice })).status, 204);
    assert.equal((await call('DELETE', paths.apiTeam('acme', 'temp'), { as: alice })).status, 404);
  });

  it('grants a team a role on a repository, which opens it to the members', async () => {
    await new AuthClient(t.reg.url, alice, 'basic').pushImage('acme/app', '1.0');
    const carols = new AuthClient(t.reg.url, carol, 'basic');
    assert.equal((await carols.fetch(paths.manifest('acme/app', '1.0'), { method: 'HEAD' })).status, 403);

    assert.equal((await call('PUT', paths.apiTeamMember('acme', 'devs', 'carol'), { as: bob })).status, 403);
    assert.equal((await call('PUT', paths.apiTeamMember('acme', 'devs', 'carol'))).status, 401);
    assert.equal((await call('PUT', paths.apiTeamMember('acme', 'nope', 'carol'), { as: alice })).status, 404);
    assert.equal((await call('PUT', paths.apiTeamMember('acme', 'devs', 'nobody'), { as: alice })).status, 404);
    assert.equal((await call('PUT', paths.apiTeamMember('acme', 'devs', 'carol'), { as: alice })).status, 204);

    const perm = paths.apiTeamPermissions('acme', 'devs');
    assert.equal((await call('PUT', perm, { as: carol, body: { repository: 'acme/app', role: 'write' } })).status, 403);
    assert.equal((await call('PUT', perm, { body: { repository: 'acme/app', role: 'write' } })).status, 401);
    assert.equal((await call('PUT', paths.apiTeamPermissions('acme', 'nope'), { as: alice, body: { repository: '', role: 'read' } })).status, 404);
    for (const body of [{ repository: 'globex/app', role: 'read' }, { repository: 'acme/app', role: 'owner' }, { repository: 'acme/app' }, { role: 'read' }]) {
      assert.equal((await call('PUT', perm, { as: alice, body })).code, 'REQUEST_INVALID', JSON.stringify(body));
    }
    assert.equal((await call('PUT', perm, { as: alice, body: { repository: 'acme/app', role: 'write' } })).status, 204);
    assert.equal((await call('PUT', perm, { as: alice, body: { repository: '', role: 'read' } })).status, 204);

    const org = (await call('GET', paths.apiOrg('acme'), { as: carol })).body as OrgBody;
    assert.deepEqual(org.teams, [
      {
        name: 'devs',
        members: ['carol'],
        permissions: [
          { repository: '', role: 'read' },
          { repository: 'acme/app', role: 'write' },
        ],
      },
    ]);
    assert.equal((await carols.fetch(paths.manifest('acme/app', '1.0'), { method: 'HEAD' })).status, 200);
    const repo = await call('GET', paths.apiRepository('acme/app'), { as: carol });
    assert.deepEqual((repo.body as { actions: string[] }).actions, ['pull', 'push']);

    assert.equal((await call('PUT', perm, { as: alice, body: { repository: 'acme/app', role: null } })).status, 204);
    assert.deepEqual(((await call('GET', paths.apiRepository('acme/app'), { as: carol })).body as { actions: string[] }).actions, ['pull']);

    assert.equal((await call('DELETE', paths.apiTeamMember('acme', 'devs', 'carol'), { as: carol })).status, 403);
    assert.equal((await call('DELETE', paths.apiTeamMember('acme', 'devs', 'carol'))).status, 401);
    assert.equal((await call('DELETE', paths.apiTeamMember('acme', 'devs', 'carol'), { as: alice })).status, 204);
    assert.equal((await call('DELETE', paths.apiTeamMember('acme', 'devs', 'carol'), { as: alice })).status, 404);
    assert.equal((await call('GET', paths.apiRepository('acme/app'), { as: carol })).status, 404);
  });

  it('deletes organisations: owners and administrators only', async () => {
    assert.equal((await call('DELETE', paths.apiOrg('acme'), { as: carol })).status, 403);
    assert.equal((await call('DELETE', paths.apiOrg('acme'))).status, 401);
    assert.equal((await call('DELETE', paths.apiOrg('acme'), { as: alice })).status, 204);
    assert.equal((await call('GET', paths.apiOrg('acme'), { as: ops })).status, 404);
    assert.equal((await call('DELETE', paths.apiOrg('acme'), { as: alice })).status, 404);
    assert.equal((await call('DELETE', paths.apiOrg('globex'), { as: ops })).status, 204);
  });
});
