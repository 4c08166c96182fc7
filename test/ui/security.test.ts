/**
 * The web UI's security in headless Chromium and from Node: a private repository stays hidden from
 * another user (search, the owner's page, its own page) and shows as private to its owner; the
 * session cookie is HttpOnly and SameSite=Strict, is useless without the CSRF token for changes
 * and is not a credential for the registry API (/v2/, /auth/token).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { failedResource, mainText, visible } from '../helpers/browser.ts';
import { sessionCookie, sessionOf, signInWithForm, waitSignedIn } from '../helpers/ui-checks.ts';
import { USERS, WEB } from '../helpers/ui-seed.ts';
import { uiSuite } from '../helpers/ui-suite.ts';

uiSuite('web UI: privacy and sessions', (ui) => {
  const { session } = ui;

  it('hides a private repository from another user: search, user page, repository page', () =>
    session(
      'private-bob',
      async ({ page, goto, assertClean }) => {
        await goto('/search?q=secret');
        await visible(page.getByText(/no repository matches/i));
        assert.equal(await page.getByRole('link', { name: /alice\/secret/ }).count(), 0, 'search shows alice/secret to bob');
        await goto('/u/alice');
        await visible(page.locator('main').getByRole('link', { name: /alice\/web/ }));
        assert.equal(await page.getByRole('link', { name: /alice\/secret/ }).count(), 0, '/u/alice shows alice/secret to bob');
        await goto('/r/alice/secret');
        await visible(page.getByRole('heading', { level: 1, name: /not found/i }));
        assert.equal(await page.getByRole('heading', { level: 1, name: 'alice/secret' }).count(), 0, 'bob sees the heading alice/secret');
        assert.ok(!(await mainText(page)).includes('Private things of alice'), "bob sees alice/secret's description");
        assertClean([failedResource(404)]);
      },
      { signIn: USERS.bob },
    ));

  it('shows a private repository to its owner, marked Private', () =>
    session(
      'private-alice',
      async ({ page, goto, assertClean }) => {
        await goto('/u/alice');
        const link = page.locator('main').getByRole('link', { name: /alice\/secret/ });
        await visible(link);
        // The badge sits in the repository's entry of the list, and only in that one.
        const entry = (name: RegExp) => page.locator('main').getByRole('listitem').filter({ has: page.getByRole('link', { name }) });
        await visible(entry(/alice\/secret/).getByText('Private', { exact: true }));
        assert.equal(await entry(/alice\/web/).getByText('Private', { exact: true }).count(), 0, 'alice/web is marked Private');
        await goto('/search?q=secret');
        await visible(page.locator('main').getByRole('link', { name: /alice\/secret/ }));
        await goto('/r/alice/secret');
        await visible(page.getByRole('heading', { level: 1, name: 'alice/secret' }));
        await visible(page.getByText('Private', { exact: true }).first());
        assertClean();
      },
      { signIn: USERS.alice },
    ));

  it('keeps the session cookie HttpOnly and SameSite=Strict, and refuses changes without the CSRF token', () =>
    session('csrf', async ({ page, goto, context, assertClean }) => {
      await goto('/');
      await signInWithForm(page, USERS.alice.user, USERS.alice.password);
      await waitSignedIn(page);
      const cookie = await sessionCookie(context);
      assert.equal(cookie.httpOnly, true, 'the session cookie is not HttpOnly');
      assert.equal(cookie.sameSite, 'Strict', 'the session cookie is not SameSite=Strict');
      assert.equal(cookie.path, '/');
      assert.equal(cookie.secure, false, 'Secure over plain HTTP would lose the cookie');
      assert.equal(await page.evaluate(() => document.cookie.includes('berth_session')), false, 'page scripts can read the cookie');
      const { csrfToken } = await sessionOf(page);
      assert.ok(csrfToken, 'the session has no CSRF token');

      const patch = (headers: Record<string, string>) =>
        fetch(`${ui.seed.url}/api/v1/repositories/alice/web`, {
          method: 'PATCH',
          headers: { cookie: cookie.header, 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ description: 'changed by a forged request' }),
        });
      const description = async () => ((await ui.seed.call('GET', '/api/v1/repositories/alice/web')).body as { description: string }).description;
      const forged: Record<string, string>[] = [{}, { 'x-csrf-token': 'not-the-token' }, { 'x-csrf-token': '' }];
      for (const headers of forged) {
        const res = await patch(headers);
        assert.equal(res.status, 403, `PATCH with the cookie and ${JSON.stringify(headers)}: ${res.status}`);
        assert.equal(((await res.json()) as { errors: { code: string }[] }).errors[0]?.code, 'DENIED');
        assert.equal(await description(), WEB.description, 'a refused PATCH changed the description');
      }
      const ok = await patch({ 'x-csrf-token': csrfToken });
      assert.equal(ok.status, 200, await ok.clone().text());
      assert.equal(await description(), 'changed by a forged request');
      const restore = await fetch(`${ui.seed.url}/api/v1/repositories/alice/web`, {
        method: 'PATCH',
        headers: { cookie: cookie.header, 'content-type': 'application/json', 'x-csrf-token': csrfToken },
        body: JSON.stringify({ description: WEB.description }),
      });
      assert.equal(restore.status, 200);
      // Without the cookie the token is nothing: an anonymous PATCH is asked to log in.
      const anonymous = await fetch(`${ui.seed.url}/api/v1/repositories/alice/web`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
        body: JSON.stringify({ description: 'anonymous' }),
      });
      assert.equal(anonymous.status, 401);
      assertClean();
    }));

  it('opens no web session for an access token: a leaked token cannot mint others', async () => {
    const created = await ui.seed.call('POST', '/api/v1/users/alice/tokens', { as: USERS.alice, body: { name: 'robot', scopes: ['repository:alice/web:pull'] } });
    assert.equal(created.status, 201, created.text);
    const secret = (created.body as { secret: string }).secret;
    const res = await fetch(`${ui.seed.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: secret }),
    });
    assert.equal(res.status, 403, await res.clone().text());
    assert.equal(res.headers.get('set-cookie'), null);
  });

  it('does not take the session cookie as a credential for the registry API', () =>
    session(
      'cookie-v2',
      async ({ page, goto, context }) => {
        await goto('/');
        const cookie = await sessionCookie(context);
        assert.equal((await sessionOf(page)).user?.name, 'alice');
        const withCookie = (path: string) => fetch(`${ui.seed.url}${path}`, { headers: { cookie: cookie.header } });
        const tags = await withCookie('/v2/alice/secret/tags/list');
        assert.equal(tags.status, 401, 'the session cookie opened a private repository on /v2/');
        assert.match(tags.headers.get('www-authenticate') ?? '', /^Bearer /);
        assert.equal((await withCookie('/v2/alice/secret/manifests/1.0')).status, 401);
        // The token server hands the cookie holder an anonymous token: no access to alice/secret.
        const token = await withCookie('/auth/token?service=berth&scope=repository:alice/secret:pull');
        assert.equal(token.status, 200);
        const jwt = ((await token.json()) as { token: string }).token;
        const claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as { sub: string; access: unknown[] };
        assert.equal(claims.sub, '');
        assert.deepEqual(claims.access, []);
        // The same cookie does read alice's private repository through the UI's API.
        assert.equal((await withCookie('/api/v1/repositories/alice/secret')).status, 200);
      },
      { signIn: USERS.alice },
    ));
});
