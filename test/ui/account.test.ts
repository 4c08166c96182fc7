/**
 * The web UI in headless Chromium, signed in: the sign-in form (a wrong password, then the right
 * one, then signing out), stars that survive a reload, access tokens created in the account
 * settings and proven against the registry API from Node, then revoked; the organisation page; the
 * accessibility smoke test on the settings page; and the screenshots of those pages.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { eventually, failedResource, gone, mainText, screenshot, visible } from '../helpers/browser.ts';
import { accessibilityProblems, sessionCookie, sessionOf, signInWithForm, waitSignedIn, waitSignedOut } from '../helpers/ui-checks.ts';
import { basicHeader } from '../helpers/auth-client.ts';
import { USERS } from '../helpers/ui-seed.ts';
import { uiSuite } from '../helpers/ui-suite.ts';

uiSuite('web UI: signed in', (ui) => {
  const { session } = ui;

  it('signs in with the form, refuses a wrong password, signs out', () =>
    session('sign-in', async ({ page, goto, reload, context, assertClean }) => {
      await goto('/');
      await page.getByRole('link', { name: 'Sign in' }).first().click();
      await visible(page.getByLabel('Username'));
      await screenshot(page, 'sign-in');
      await goto('/');
      // An unknown user and a wrong password get the same answer (names do not leak).
      await signInWithForm(page, 'nobody', 'no-password-1');
      await visible(page.getByText('Wrong username or password.'));
      await goto('/');
      await signInWithForm(page, USERS.alice.user, 'not-her-password');
      await visible(page.getByText('Wrong username or password.'));
      assert.equal((await sessionOf(page)).user, null);
      await page.getByLabel('Password').fill(USERS.alice.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await waitSignedIn(page);
      await visible(page.getByText(USERS.alice.user, { exact: true }).first());
      assert.equal((await sessionOf(page)).user?.name, 'alice');
      await reload();
      await waitSignedIn(page);
      const cookie = await sessionCookie(context);
      const signOut = page.getByRole('button', { name: 'Sign out' });
      if (!(await signOut.isVisible())) await page.getByRole('button', { name: 'Menu' }).click();
      await signOut.click();
      await waitSignedOut(page);
      assert.equal((await sessionOf(page)).user, null);
      // Signing out ended the session on the server too: its old cookie is worth nothing.
      const replay = (await (await fetch(`${ui.seed.url}/api/v1/session`, { headers: { cookie: cookie.header } })).json()) as { user: unknown };
      assert.equal(replay.user, null, 'the cookie of a signed-out session still signs in');
      assertClean([failedResource(401)]);
    }));

  it('stars a repository, keeps the star over a reload, unstars it', () =>
    session(
      'star',
      async ({ page, goto, reload, assertClean }) => {
        const starCount = async () => ((await ui.seed.call('GET', '/api/v1/repositories/acme/app')).body as { starCount: number }).starCount;
        // The toggle keeps its name "Star" while aria-pressed says whether it is on (WAI-ARIA's
        // toggle button pattern); it is found by its state below, and its name checked at the end.
        const toggle = page.locator('main').getByRole('button', { name: /star/i }).and(page.locator('[aria-pressed]'));
        const names: string[] = [];
        const noteName = async () => names.push((await toggle.ariaSnapshot()).trim());
        /** The number shown with the button (inside it or right beside it). */
        const shown = async () => Number(/\d+/.exec(await toggle.locator('xpath=..').innerText())?.[0] ?? NaN);
        await goto('/r/acme/app');
        await visible(toggle);
        assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
        assert.equal(await shown(), 0);
        assert.equal(await starCount(), 0);
        await noteName();
        await toggle.click();
        await eventually('aria-pressed after starring', () => toggle.getAttribute('aria-pressed'), (v) => v === 'true');
        await eventually('the star count shown after starring', shown, (n) => n === 1);
        assert.equal(await starCount(), 1);
        await noteName();
        await reload();
        await eventually('aria-pressed after a reload', () => toggle.getAttribute('aria-pressed'), (v) => v === 'true');
        assert.equal(await shown(), 1);
        await toggle.click();
        await eventually('aria-pressed after unstarring', () => toggle.getAttribute('aria-pressed'), (v) => v === 'false');
        await eventually('the star count shown after unstarring', shown, (n) => n === 0);
        assert.equal(await starCount(), 0);
        assertClean();
        for (const snapshot of names) assert.match(snapshot, /^- button "Star\b/, `the star toggle is named otherwise when pressed or not: ${names.join(' / ')}`);
      },
      { signIn: USERS.bob },
    ));

  it('creates an access token that works against the registry, then revokes it', () =>
    session(
      'tokens',
      async ({ page, goto, reload, assertClean }) => {
        await goto('/settings');
        await page.getByLabel('Token name').fill('laptop');
        await page.getByLabel('Scopes (one per line, e.g. repository:alice/app:pull)').fill('repository:alice/web:pull\nrepository:alice/secret:pull');
        const expires = page.getByLabel('Expires');
        if ((await expires.evaluate((el) => el.tagName)) === 'SELECT') {
          const options = await expires.locator('option').allInnerTexts();
          const thirty = options.find((o) => /30/.test(o));
          if (thirty !== undefined) await expires.selectOption({ label: thirty });
        } else {
          await expires.fill('30d');
        }
        // A wrong password creates nothing; the right one does.
        await page.getByLabel('Your password').fill('not-the-password');
        await page.getByRole('button', { name: 'Create token' }).click();
        await visible(page.getByRole('alert').getByText(/current password is wrong/i));
        assert.equal(await page.getByRole('region', { name: 'Copy your new token now' }).count(), 0);
        await page.getByLabel('Your password').fill(USERS.alice.password);
        await page.getByRole('button', { name: 'Create token' }).click();
        await visible(page.getByText('Copy your new token now'));
        const secret = /berth_pat_[A-Za-z0-9_-]+/.exec(await mainText(page))?.[0];
        assert.ok(secret, 'no berth_pat_ secret on the page');
        await page.getByRole('heading', { name: 'Access tokens' }).evaluate((h) => h.scrollIntoView({ block: 'start' }));
        await screenshot(page, 'settings-new-token');
        // The secret is the password of alice for the registry API: the private repository too.
        const tagsList = (repo: string) => fetch(`${ui.seed.url}/v2/${repo}/tags/list`, { headers: { authorization: basicHeader({ user: 'alice', password: secret }) } });
        assert.equal((await tagsList('alice/web')).status, 200);
        assert.equal((await tagsList('alice/secret')).status, 200);
        const listed = ((await ui.seed.call('GET', '/api/v1/users/alice/tokens', { as: USERS.alice })).body as { tokens: { name: string; scopes: string[] | null }[] }).tokens;
        const laptop = listed.filter((t) => t.name === 'laptop');
        assert.deepEqual(laptop.map((t) => t.scopes), [['repository:alice/web:pull', 'repository:alice/secret:pull']]);
        // Shown once: gone after a reload, while the token stays listed.
        await reload();
        await visible(page.getByRole('button', { name: 'Revoke token laptop' }));
        assert.ok(!(await mainText(page)).includes(secret), 'the secret is shown again after a reload');
        await page.getByRole('heading', { name: 'Your tokens' }).evaluate((h) => h.scrollIntoView({ block: 'start' }));
        await screenshot(page, 'settings');
        await page.getByRole('button', { name: 'Revoke token laptop' }).click();
        await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
        await gone(page.getByRole('button', { name: 'Revoke token laptop' }));
        assert.equal((await tagsList('alice/web')).status, 401);
        assert.equal((await tagsList('alice/secret')).status, 401);
        assertClean([failedResource(403)]); // the wrong password's answer
      },
      { signIn: USERS.alice },
    ));

  it('passes the accessibility smoke test on the settings page', () =>
    session(
      'settings-accessibility',
      async ({ page, goto, assertClean }) => {
        await goto('/settings');
        await visible(page.getByLabel('Token name'));
        assert.deepEqual(await accessibilityProblems(page), []);
        assertClean();
      },
      { signIn: USERS.alice },
    ));

  it("shows an organisation's members, teams and repositories", () =>
    session(
      'organisation',
      async ({ page, goto, assertClean }) => {
        await goto('/orgs/acme');
        await visible(page.getByRole('heading', { level: 1, name: /acme/ }));
        await visible(page.getByText('devs').first());
        await visible(page.getByRole('link', { name: /acme\/app/ }).first());
        const text = await mainText(page);
        assert.ok(text.includes('alice') && text.includes('bob'), `members alice and bob not both shown: ${text.slice(0, 300)}`);
        await screenshot(page, 'organisation');
        assertClean();
      },
      { signIn: USERS.alice },
    ));
});
