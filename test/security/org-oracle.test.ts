/**
 * Issue 12, finding 7 (in part): POST /api/v1/orgs must not tell a namespace that holds (private)
 * repositories apart from a name that is taken. Both answer 409 CONFLICT with the same message,
 * so creating organisations cannot probe for private namespaces. An administrator may still give
 * such a namespace an owner.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM } from '../../src/auth/principal.ts';
import { paths } from '../../src/http/routes.ts';
import { api } from '../helpers/api.ts';
import { AuthClient, type Credentials } from '../helpers/auth-client.ts';
import { startAuthRegistry, expectAccessControl, type AuthRegistry } from '../helpers/auth.ts';

const ops: Credentials = { user: 'ops', password: 'ops-password-1' };
const alice: Credentials = { user: 'alice', password: 'alice-password-1' };
const bob: Credentials = { user: 'bob', password: 'bob-password-1' };
const mallory: Credentials = { user: 'mallory', password: 'mallory-password-1' };

describe('POST /api/v1/orgs: one answer for a taken name and a namespace holding repositories', () => {
  let reg: AuthRegistry;

  before(async () => {
    reg = await startAuthRegistry();
    const { accounts } = reg;
    await accounts.createUser(SYSTEM, ops.user, ops.password, true);
    for (const u of [alice, bob, mallory]) await accounts.createUser(SYSTEM, u.user, u.password);
    await expectAccessControl(reg);
    await accounts.createOrg(SYSTEM, 'acme', alice.user);
    // bob's private repository outlives his account: the namespace is free, but holds repositories.
    await new AuthClient(reg.url, bob, 'basic').pushImage('bob/secret', 'latest');
    await accounts.deleteUser(SYSTEM, bob.user);
  });
  after(() => reg?.stop());

  it('answers 409 CONFLICT, word for word the same but for the name', async () => {
    const call = api(reg.url);
    const answers = await Promise.all(
      ['acme', 'alice', 'bob'].map(async (name) => {
        const res = await call('POST', paths.apiOrgs(), { as: mallory, body: { name } });
        return { status: res.status, body: res.text.replaceAll(name, 'NAME') };
      }),
    );
    const [org, user, holding] = answers;
    assert.equal(org?.status, 409);
    assert.match(org?.body ?? '', /"code":"CONFLICT"/);
    assert.deepEqual(user, org, 'a user’s name');
    assert.deepEqual(holding, org, 'a namespace that holds repositories');
    assert.equal((await call('GET', paths.apiOrgs(), { as: ops })).text.includes('"bob"'), false, 'nothing was created');
  });

  it('still lets an administrator give such a namespace an owner', async () => {
    const made = await api(reg.url)('POST', paths.apiOrgs(), { as: ops, body: { name: 'bob', owner: alice.user } });
    assert.equal(made.status, 201, made.text);
  });
});
