/**
 * The garbage collection page in headless Chromium, on a registry whose collector frees at once
 * (grace 0, no background runs): an image deleted by digest shows as reclaimable bytes, a preview
 * changes nothing, "Collect now" (confirmed) frees it and lists the run with what it freed, and the
 * page fits a phone's width; a user who is not an administrator has no menu entry for it, is told
 * so on the page and refused by the API.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SYSTEM } from '../../src/auth/principal.ts';
import { api } from '../helpers/api.ts';
import { expectAccessControl, startAuthRegistry, type AuthRegistry } from '../helpers/auth.ts';
import { AuthClient } from '../helpers/auth-client.ts';
import { eventually, screenshot, visible } from '../helpers/browser.ts';
import { accessibilityProblems, PHONE, scrollWidth, sessionCookie } from '../helpers/ui-checks.ts';
import { USERS } from '../helpers/ui-seed.ts';
import { uiSuiteOn } from '../helpers/ui-suite.ts';

/** As the page writes exact byte counts in titles. */
const whole = new Intl.NumberFormat('en');

interface GcSeed {
  reg: AuthRegistry;
  url: string;
  /** The bytes a collection frees: the deleted image's config, layer and manifest. */
  garbage: number;
  call: ReturnType<typeof api>;
  stop(): Promise<void>;
}

/** admin and alice; alice/app:1 and :2 pushed, :1 deleted by digest. */
async function seedGarbage(): Promise<GcSeed> {
  const reg = await startAuthRegistry({ storage: { gc: { grace: '0', interval: '0' } } });
  try {
    await reg.accounts.createUser(SYSTEM, USERS.admin.user, USERS.admin.password, true);
    await expectAccessControl(reg);
    const call = api(reg.url);
    const created = await call('POST', '/api/v1/users', { as: USERS.admin, body: { name: USERS.alice.user, password: USERS.alice.password } });
    assert.equal(created.status, 201, created.text);
    const alice = new AuthClient(reg.url, USERS.alice, 'basic');
    const gone = await alice.pushImage('alice/app', '1', { layer: 'the layer of 1' });
    await alice.pushImage('alice/app', '2', { layer: 'the layer of 2' });
    const deleted = await alice.fetch(`/v2/alice/app/manifests/${gone.descriptor.digest}`, { method: 'DELETE' });
    assert.equal(deleted.status, 202);
    const garbage = gone.config.size + gone.layer.size + gone.descriptor.size;
    return { reg, url: reg.url, garbage, call, stop: () => reg.stop() };
  } catch (err) {
    await reg.stop();
    throw err;
  }
}

uiSuiteOn('web UI: garbage collection', seedGarbage, (ui) => {
  const { session } = ui;

  it('shows what a delete left behind, previews, collects it and lists the run', () =>
    session(
      'gc',
      async ({ page, goto, assertClean }) => {
        await goto('/admin');
        await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Garbage collection' }).click();
        await visible(page.getByRole('heading', { level: 1, name: 'Garbage collection' }));
        const reclaimable = page.getByRole('region', { name: 'Reclaimable' });
        const bytesNow = reclaimable.locator('.stat-grid dd').first();
        await visible(bytesNow);
        assert.equal(await bytesNow.getAttribute('title'), `${whole.format(ui.seed.garbage)} bytes`, 'reclaimable: the deleted image');
        await visible(reclaimable.getByRole('table').getByRole('rowheader', { name: 'alice/app' }));

        const runs = page.getByRole('region', { name: 'Last runs' });
        await visible(runs.getByText('No collection has run yet.'));
        await reclaimable.getByRole('button', { name: 'Preview' }).click();
        await visible(reclaimable.getByText(/Preview \(nothing deleted\)/));
        await visible(runs.getByRole('cell', { name: 'Dry run' }));
        assert.equal(await bytesNow.getAttribute('title'), `${whole.format(ui.seed.garbage)} bytes`, 'a preview frees nothing');
        assert.deepEqual(await accessibilityProblems(page), []);
        await screenshot(page, 'admin-gc', { fullPage: true });

        await reclaimable.getByRole('button', { name: 'Collect now' }).click();
        const dialog = page.getByRole('dialog', { name: 'Collect garbage now?' });
        await dialog.getByRole('button', { name: 'Collect now' }).click();
        await visible(reclaimable.getByText(/Collection done: freed/));
        await eventually('reclaimable after the collection', () => bytesNow.getAttribute('title'), (t) => t === '0 bytes');
        await visible(reclaimable.getByText('Nothing to reclaim.'));
        const collection = runs.getByRole('row').filter({ has: page.getByRole('cell', { name: 'Collection', exact: true }) });
        await visible(collection);
        assert.equal(await collection.getByRole('cell').nth(3).getAttribute('title'), `${whole.format(ui.seed.garbage)} bytes`, 'the run freed the deleted image');
        assert.equal(await runs.getByRole('row').count(), 3, 'a header row, the collection and the dry run');
        await page.setViewportSize(PHONE.viewport);
        const width = await scrollWidth(page);
        assert.ok(width <= PHONE.viewport.width + 1, `the page scrolls sideways on a phone: scrollWidth ${width}`);
        assertClean();
      },
      { signIn: USERS.admin },
    ));

  it('has no menu entry for a user who is not an administrator, tells them so, and the API refuses them', () =>
    session(
      'gc-not-admin',
      async ({ page, context, goto, assertClean }) => {
        await goto('/');
        await visible(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'alice' }));
        assert.equal(await page.getByRole('link', { name: 'Admin', exact: true }).count(), 0);
        await goto('/admin/gc');
        await visible(page.getByText('Administrators only. You are signed in as alice, who is not an administrator.'));
        assert.equal(await page.getByRole('region', { name: 'Reclaimable' }).count(), 0);
        const cookie = (await sessionCookie(context)).header;
        const csrf = await page.evaluate(async () => ((await (await fetch('/api/v1/session')).json()) as { csrfToken: string }).csrfToken);
        for (const method of ['GET', 'POST']) {
          const res = await fetch(`${ui.seed.url}/api/v1/admin/gc`, {
            method,
            headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
            ...(method === 'POST' && { body: JSON.stringify({ dryRun: false }) }),
          });
          const text = await res.text();
          assert.equal(res.status, 403, `${method} /api/v1/admin/gc as alice: ${text}`);
          assert.doesNotMatch(text, /CSRF/, 'refused for not being an administrator, not for the CSRF token');
        }
        assertClean();
      },
      { signIn: USERS.alice },
    ));
});
