/**
 * Retention in headless Chromium: alice, on her repository's Settings page, sees the policy her
 * namespace's config gives it and exactly which tag the next garbage collection would delete and
 * why; she sets the repository's own policy (a bad regular expression is refused, saying why), the
 * preview follows, and she removes it again; the same for her organisation's `acme/*` on its page.
 * bob, who may not administer it, gets no such section.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SYSTEM } from '../../src/auth/principal.ts';
import { api } from '../helpers/api.ts';
import { expectAccessControl, startAuthRegistry, type AuthRegistry } from '../helpers/auth.ts';
import { AuthClient } from '../helpers/auth-client.ts';
import { failedResource, screenshot, visible } from '../helpers/browser.ts';
import { accessibilityProblems } from '../helpers/ui-checks.ts';
import { USERS } from '../helpers/ui-seed.ts';
import { uiSuiteOn } from '../helpers/ui-suite.ts';

interface RetentionSeed {
  reg: AuthRegistry;
  url: string;
  call: ReturnType<typeof api>;
  stop(): Promise<void>;
}

/** admin, alice (owner of acme), bob; `alice/*` keeps the newest tag; alice/app and acme/web hold v1 then v2. */
async function seedRetention(): Promise<RetentionSeed> {
  const reg = await startAuthRegistry({ retention: { policies: [{ repository: 'alice/*', keep: { newest: 1 } }] } });
  try {
    await reg.accounts.createUser(SYSTEM, USERS.admin.user, USERS.admin.password, true);
    await expectAccessControl(reg);
    await reg.accounts.createUser(SYSTEM, USERS.alice.user, USERS.alice.password);
    await reg.accounts.createUser(SYSTEM, USERS.bob.user, USERS.bob.password);
    const alice = new AuthClient(reg.url, USERS.alice, 'basic');
    await alice.pushImage('alice/app', 'v1');
    await alice.pushImage('alice/app', 'v2');
    await reg.accounts.createOrg(SYSTEM, 'acme', USERS.alice.user);
    await alice.pushImage('acme/web', 'v1');
    await alice.pushImage('acme/web', 'v2');
    await reg.accounts.setVisibility(SYSTEM, 'alice/app', 'public');
    return { reg, url: reg.url, call: api(reg.url), stop: () => reg.stop() };
  } catch (err) {
    await reg.stop();
    throw err;
  }
}

uiSuiteOn('web UI: retention', seedRetention, (ui) => {
  const { session } = ui;

  it("shows alice what her namespace's policy would delete, and lets her set and remove the repository's own", () =>
    session(
      'retention-owner',
      async ({ page, goto, assertClean }) => {
        await goto('/r/alice/app/settings');
        const section = page.getByRole('region', { name: 'Retention' });
        await visible(section.getByText(/Policy alice\/\* \(from the configuration\): keep the newest 1\./));
        await visible(section.getByText(/it would delete 1 tag and 0 untagged manifests, and keep 1 tag/));
        const v1 = section.getByRole('row').filter({ has: page.getByRole('cell', { name: 'v1', exact: true }) });
        await visible(v1.getByRole('cell', { name: 'delete', exact: true }));
        await visible(v1.getByRole('cell', { name: 'not among the newest 1' }));
        assert.deepEqual(await accessibilityProblems(page), []);
        await screenshot(page, 'repo-retention', { fullPage: true });

        // a bad regular expression: the registry's 400 says why
        await section.getByLabel('Keep tags matching').fill('^v[0-9');
        await section.getByRole('button', { name: 'Save policy' }).click();
        await visible(section.getByRole('alert').getByText(/not a valid regular expression/));

        await section.getByLabel('Keep tags matching').fill('^v');
        await section.getByRole('button', { name: 'Save policy' }).click();
        await visible(section.getByText(/Policy alice\/app \(set by alice\): keep tags matching \^v\./));
        await visible(section.getByText(/it would delete 0 tags and 0 untagged manifests, and keep 2 tags/));
        const held = await ui.seed.call('GET', '/api/v1/retention/policies', { as: USERS.alice });
        assert.deepEqual((held.body as { policies: { repository: string }[] }).policies.map((p) => p.repository), ['alice/*', 'alice/app']);

        await section.getByRole('button', { name: 'Remove the policy of alice/app' }).click();
        await visible(section.getByText(/Policy alice\/\* \(from the configuration\)/));
        assertClean([failedResource(400)]);
      },
      { signIn: USERS.alice },
    ));

  it("lets alice, an owner of acme, set acme's policy and see what it would delete in each repository", () =>
    session(
      'retention-org',
      async ({ page, goto, assertClean }) => {
        await goto('/orgs/acme');
        const section = page.getByRole('region', { name: 'Retention' });
        await visible(section.getByText('No policy for acme/*.'));
        await visible(section.getByText(/it would delete 0 tags and 0 untagged manifests in 0 repositories of acme/));
        await section.getByLabel('Keep the newest tags').fill('1');
        await section.getByRole('button', { name: 'Save policy' }).click();
        await visible(section.getByText(/Policy acme\/\* \(set by alice\): keep the newest 1\./));
        await visible(section.getByText(/it would delete 1 tag and 0 untagged manifests in 1 repository of acme/));
        await section.getByText('acme/web', { exact: true }).click();
        await visible(section.getByRole('cell', { name: 'not among the newest 1' }));
        assert.deepEqual(await accessibilityProblems(page), []);
        await screenshot(page, 'org-retention', { fullPage: true });
        await section.getByRole('button', { name: 'Remove the policy of acme/*' }).click();
        await visible(section.getByText('No policy for acme/*.'));
        assertClean();
      },
      { signIn: USERS.alice },
    ));

  it('has no retention section for bob, who may not administer the repository', () =>
    session(
      'retention-bob',
      async ({ page, goto, assertClean }) => {
        await goto('/r/alice/app/settings');
        await visible(page.getByText('You may not change this repository.'));
        assert.equal(await page.getByRole('region', { name: 'Retention' }).count(), 0);
        assertClean();
      },
      { signIn: USERS.bob },
    ));
});
