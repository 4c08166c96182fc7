/**
 * The web UI in headless Chromium, changing things: a repository made private (and what an
 * anonymous visitor then sees) and public again, a tag deleted (and gone from the registry API
 * too), an organisation member made owner and back, the administration page for an administrator
 * and for a user, with its screenshot.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { eventually, gone, mainText, screenshot, visible } from '../helpers/browser.ts';
import { basicHeader } from '../helpers/auth-client.ts';
import { PHONE, scrollWidth } from '../helpers/ui-checks.ts';
import { USERS } from '../helpers/ui-seed.ts';
import { uiSuite } from '../helpers/ui-suite.ts';

uiSuite('web UI: managing repositories', (ui) => {
  const { session } = ui;
  const visibility = async () => ((await ui.seed.call('GET', '/api/v1/repositories/alice/web', { as: USERS.alice })).body as { visibility: string }).visibility;

  /** What an anonymous visitor sees of alice/web: the repository page and a search for it. */
  const anonymousView = () => {
    let view = { page: '', listed: false, heading: false };
    return session('anonymous view', async ({ page, goto }) => {
      await goto('/r/alice/web');
      // Loaded: the repository's tags, or a page saying it cannot be shown (while loading, the
      // heading already names the repository).
      await visible(page.getByRole('heading', { name: 'Tags' }).or(page.getByRole('heading', { level: 1, name: /not found|sign in/i })));
      const heading = await page.getByRole('heading', { level: 1, name: 'alice/web' }).isVisible();
      const text = await mainText(page);
      await goto('/search?q=web');
      await visible(page.getByText(/repositor(y|ies) matching|no repository matches/i));
      const listed = (await page.locator('main').getByRole('link', { name: /alice\/web/ }).count()) > 0;
      view = { page: text, listed, heading };
    }).then(() => view);
  };

  it('makes a repository private, which hides it from anonymous visitors, and public again', () =>
    session(
      'visibility',
      async ({ page, goto, reload, assertClean }) => {
        const shown = await anonymousView();
        assert.ok(shown.heading && shown.listed, `public alice/web is shown to anonymous visitors: ${JSON.stringify(shown)}`);
        await goto('/r/alice/web/settings');
        await page.getByRole('radio', { name: 'Private' }).check();
        await page.getByRole('button', { name: 'Save visibility' }).click();
        await eventually('visibility saved', visibility, (v) => v === 'private');
        const hidden = await anonymousView();
        assert.ok(!hidden.heading, 'the heading alice/web is still shown to an anonymous visitor');
        assert.match(hidden.page, /not found|sign in/i, 'a private repository answers an anonymous visitor with a not-found or sign-in message');
        assert.ok(!hidden.listed, 'search lists the private alice/web to an anonymous visitor');
        await reload();
        assert.equal(await page.getByRole('radio', { name: 'Private' }).isChecked(), true, 'the settings page shows the saved visibility');
        await page.getByRole('radio', { name: 'Public' }).check();
        await page.getByRole('button', { name: 'Save visibility' }).click();
        await eventually('visibility saved', visibility, (v) => v === 'public');
        const again = await anonymousView();
        assert.ok(again.heading && again.listed, `alice/web is public again: ${JSON.stringify(again)}`);
        assertClean();
      },
      { signIn: USERS.alice },
    ));

  it('deletes a tag, from the page and from the registry', () =>
    session(
      'delete-tag',
      async ({ page, goto, reload, assertClean }) => {
        const manifest = () =>
          fetch(`${ui.seed.url}/v2/alice/web/manifests/1.1`, {
            headers: { authorization: basicHeader(USERS.alice), accept: 'application/vnd.oci.image.manifest.v1+json' },
          }).then((r) => r.status);
        assert.equal(await manifest(), 200);
        await goto('/r/alice/web');
        const row = page.getByRole('table').getByRole('link', { name: '1.1', exact: true });
        await visible(row);
        await page.getByRole('button', { name: 'Delete tag 1.1' }).click();
        await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
        await gone(row);
        assert.equal(await manifest(), 404);
        // The other tags stay; latest named the same manifest and still answers.
        await visible(page.getByRole('table').getByRole('link', { name: 'latest', exact: true }));
        await reload();
        await visible(page.getByRole('table').getByRole('link', { name: '1.0', exact: true }));
        assert.equal(await page.getByRole('table').getByRole('link', { name: '1.1', exact: true }).count(), 0);
        assertClean();
      },
      { signIn: USERS.alice },
    ));

  it('shows users and storage to an administrator', () =>
    session(
      'admin',
      async ({ page, goto, assertClean }) => {
        await goto('/admin');
        await visible(page.getByRole('heading', { level: 1 }));
        const users = page.getByRole('region', { name: 'Users' }).getByRole('table');
        for (const name of ['admin', 'alice', 'bob']) await visible(users.getByRole('cell', { name, exact: true }));
        await screenshot(page, 'admin');
        // Storage: a row per namespace that holds something, named as a row header or cell.
        const storage = page.getByRole('region', { name: 'Storage' });
        await visible(storage.getByRole('table'));
        const namespaces = await storage.getByRole('table').locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.children[0]?.textContent?.trim() ?? ''));
        for (const namespace of ['alice', 'acme', 'bob']) assert.ok(namespaces.includes(namespace), `namespace ${namespace} not in Storage: ${namespaces.join(', ')}`);
        await storage.getByRole('heading', { name: 'Storage' }).evaluate((h) => h.scrollIntoView({ block: 'start' }));
        await screenshot(page, 'admin-storage');
        assertClean();
      },
      { signIn: USERS.admin },
    ));

  it('makes a user an administrator and back', () =>
    session(
      'admin-toggle',
      async ({ page, goto, assertClean }) => {
        const isAdmin = async () => ((await ui.seed.call('GET', '/api/v1/users/bob', { as: USERS.admin })).body as { admin: boolean }).admin;
        await goto('/admin');
        await page.getByRole('button', { name: 'Make bob an administrator' }).click();
        await visible(page.getByRole('button', { name: 'Remove administrator rights from bob' }));
        assert.equal(await isAdmin(), true);
        await page.getByRole('button', { name: 'Remove administrator rights from bob' }).click();
        await visible(page.getByRole('button', { name: 'Make bob an administrator' }));
        assert.equal(await isAdmin(), false);
        assertClean();
      },
      { signIn: USERS.admin },
    ));

  it('makes a member of an organisation an owner and back, with buttons that say what they do', async () => {
    const isOwner = async () => {
      const org = (await ui.seed.call('GET', '/api/v1/orgs/acme', { as: USERS.alice })).body as { members: { user: string; owner: boolean }[] };
      return org.members.find((m) => m.user === 'bob')?.owner;
    };
    for (const [name, options] of [['org-owners', {}], ['org-owners-phone', PHONE]] as const) {
      await session(
        name,
        async ({ page, goto, assertClean }) => {
          assert.equal(await isOwner(), false, 'bob starts as a member');
          await goto('/orgs/acme');
          const members = page.getByRole('region', { name: 'Members' });
          const promote = members.getByRole('button', { name: 'Make bob an owner' });
          await promote.click();
          // An owner's button names what it takes away, and whom from (it said "Make member").
          const demote = members.getByRole('button', { name: 'Remove owner role from bob' });
          await visible(demote);
          assert.equal((await demote.innerText()).trim(), 'Remove owner role');
          await visible(members.getByRole('button', { name: 'Remove owner role from alice' }));
          assert.equal(await members.getByRole('button', { name: /make member/i }).count(), 0);
          assert.equal(await isOwner(), true);
          const width = await scrollWidth(page);
          assert.ok(width <= (options === PHONE ? 376 : 1280), `the page scrolls sideways: scrollWidth ${width}`);
          await members.scrollIntoViewIfNeeded();
          await screenshot(page, name);
          await demote.click();
          await visible(promote);
          assert.equal(await isOwner(), false);
          assertClean();
        },
        { signIn: USERS.alice, ...options },
      );
    }
  });

  it('deletes an organisation, for its owner', () =>
    session(
      'delete-org',
      async ({ page, goto, assertClean }) => {
        const created = await ui.seed.call('POST', '/api/v1/orgs', { as: USERS.alice, body: { name: 'scratch' } });
        assert.equal(created.status, 201);
        await goto('/orgs/scratch');
        await page.getByRole('button', { name: 'Delete organisation' }).click();
        await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
        await eventually('back on /orgs after the delete', async () => new URL(page.url()).pathname, (path) => path === '/orgs');
        assert.equal((await ui.seed.call('GET', '/api/v1/orgs/scratch', { as: USERS.alice })).status, 404);
        assertClean();
      },
      { signIn: USERS.alice },
    ));

  it('tells a user who is not an administrator that the page is for administrators only', () =>
    session(
      'not-admin',
      async ({ page, goto, assertClean }) => {
        await goto('/admin');
        await visible(page.getByText('Administrators only'));
        assert.equal(await page.getByRole('cell', { name: 'bob', exact: true }).count(), 0);
        assertClean();
      },
      { signIn: USERS.alice },
    ));
});
