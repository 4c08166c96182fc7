/**
 * Quotas and immutable tags in headless Chromium: alice sees her namespace's usage against the
 * default limit on her page, and an organisation's members on its page; an administrator sets and
 * removes a namespace's limit and sets and lifts an immutable tag rule on /admin, each change
 * shown and held by the registry (a push refused, then allowed).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SYSTEM } from '../../src/auth/principal.ts';
import { api } from '../helpers/api.ts';
import { expectAccessControl, startAuthRegistry, type AuthRegistry } from '../helpers/auth.ts';
import { AuthClient } from '../helpers/auth-client.ts';
import { failedResource, gone, screenshot, visible } from '../helpers/browser.ts';
import { accessibilityProblems } from '../helpers/ui-checks.ts';
import { USERS } from '../helpers/ui-seed.ts';
import { uiSuiteOn } from '../helpers/ui-suite.ts';

interface QuotaSeed {
  reg: AuthRegistry;
  url: string;
  alice: AuthClient;
  call: ReturnType<typeof api>;
  stop(): Promise<void>;
}

/** admin, alice (owner of acme), bob; a 1 KiB default quota; alice/app:v1 pushed (about 700 bytes). */
async function seedQuotas(): Promise<QuotaSeed> {
  const reg = await startAuthRegistry({ access: { quota: { default: '1KiB' }, immutable: [{ repository: 'acme/*', tags: ['v*'] }] } });
  try {
    await reg.accounts.createUser(SYSTEM, USERS.admin.user, USERS.admin.password, true);
    await expectAccessControl(reg);
    await reg.accounts.createUser(SYSTEM, USERS.alice.user, USERS.alice.password);
    await reg.accounts.createUser(SYSTEM, USERS.bob.user, USERS.bob.password);
    await reg.accounts.createOrg(SYSTEM, 'acme', USERS.alice.user);
    const alice = new AuthClient(reg.url, USERS.alice, 'basic');
    await alice.pushImage('alice/app', 'v1', { layer: 'x'.repeat(300) });
    return { reg, url: reg.url, alice, call: api(reg.url), stop: () => reg.stop() };
  } catch (err) {
    await reg.stop();
    throw err;
  }
}

uiSuiteOn('web UI: quotas and immutable tags', seedQuotas, (ui) => {
  const { session } = ui;

  it("shows alice her namespace's usage against its limit, and acme's to its member; not to bob", () =>
    session(
      'quota-user',
      async ({ page, goto, assertClean }) => {
        await goto('/u/alice');
        const storage = page.getByRole('region', { name: 'Storage' });
        const meter = storage.getByRole('meter', { name: 'Storage of alice' });
        await visible(meter);
        const used = Number(await meter.getAttribute('value'));
        assert.ok(used > 300 && used < 1024, `value ${used}`);
        assert.equal(await meter.getAttribute('max'), '1024');
        await visible(storage.getByText(/ of 1\.02 KB used$/));
        assert.deepEqual(await accessibilityProblems(page), []);
        await goto('/orgs/acme');
        await visible(page.getByRole('region', { name: 'Storage' }).getByText('0 B of 1.02 KB used'));
        assertClean();
      },
      { signIn: USERS.alice },
    ));

  it('has no storage section for bob on pages of namespaces he is not in', () =>
    session(
      'quota-bob',
      async ({ page, goto, assertClean }) => {
        await goto('/u/alice');
        await visible(page.getByRole('heading', { level: 1, name: 'alice' }));
        await visible(page.getByRole('heading', { name: 'Repositories' }));
        assert.equal(await page.getByRole('region', { name: 'Storage' }).count(), 0);
        assertClean();
      },
      { signIn: USERS.bob },
    ));

  it("lets an administrator set and remove a namespace's limit and set and lift an immutable tag rule", () =>
    session(
      'quota-admin',
      async ({ page, goto, assertClean }) => {
        await goto('/admin');
        const quotas = page.getByRole('region', { name: 'Quotas' });
        const aliceRow = quotas.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'alice' }) });
        await visible(aliceRow.getByRole('cell', { name: 'default' }));
        await quotas.getByLabel('Namespace', { exact: true }).fill('alice');
        await quotas.getByLabel('Limit', { exact: true }).fill('1MiB');
        await quotas.getByRole('button', { name: 'Set limit' }).click();
        await visible(aliceRow.getByRole('cell', { name: 'set here (admin)' }));
        await visible(aliceRow.getByRole('cell', { name: '1.05 MB' }));
        const set = await ui.seed.call('GET', '/api/v1/namespaces/alice/quota', { as: USERS.alice });
        assert.equal((set.body as { limit: number }).limit, 1048576, 'the registry holds the limit');
        // a size the registry refuses (400, allowed below): the form says why
        await quotas.getByLabel('Limit', { exact: true }).fill('lots');
        await quotas.getByLabel('Namespace', { exact: true }).fill('alice');
        await quotas.getByRole('button', { name: 'Set limit' }).click();
        await visible(quotas.getByRole('alert').getByText(/not a size/));
        await aliceRow.getByRole('button', { name: 'Remove the limit set for alice' }).click();
        await visible(aliceRow.getByRole('cell', { name: 'default' }));

        const rules = page.getByRole('region', { name: 'Immutable tags' });
        await visible(rules.getByRole('rowheader', { name: 'acme/*' }));
        await rules.getByLabel('Repositories', { exact: true }).fill('alice/*');
        await rules.getByLabel('Tags', { exact: true }).fill('v*, stable');
        await rules.getByRole('button', { name: 'Set rule' }).click();
        const aliceRule = rules.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'alice/*' }) });
        await visible(aliceRule.getByRole('cell', { name: 'set by admin' }));
        assert.deepEqual(await accessibilityProblems(page), []);
        await screenshot(page, 'admin-quotas', { fullPage: true });
        const moved = await ui.seed.alice.pushImage('alice/app', 'v1', { layer: 'y' }).then(
          () => 'moved',
          (err: Error) => err.message,
        );
        assert.match(moved, /push manifest: 403 .*immutable/);
        await aliceRule.getByRole('button', { name: 'Lift the rule of alice/*' }).click();
        await gone(aliceRule);
        await rules.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'acme/*' }) }).getByRole('button', { name: 'Lift the rule of acme/*' }).click();
        await visible(rules.getByText('lifted (config: v*)'));
        assertClean([failedResource(400)]);
      },
      { signIn: USERS.admin },
    ));
});
