/**
 * The web UI in headless Chromium, as an anonymous visitor: search from the home page (instant
 * results, the results page, the official filter), a repository page (sanitised README, pull
 * command and Copy, tags and their filter), a tag (layers, configuration, history, referrers, raw
 * manifest) and an index (platforms with their images' sizes); the accessibility smoke test, phone width and dark mode; and
 * the screenshots of those pages. Every page talks only to the registry and logs no error.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Page } from 'playwright-core';
import { eventually, gone, mainText, screenshot, visible } from '../helpers/browser.ts';
import { accessibilityProblems, backgroundColor, contrastProblems, PHONE, scrollWidth } from '../helpers/ui-checks.ts';
import { NOTARY_SIGNATURE, WEB } from '../helpers/ui-seed.ts';
import { uiSuite } from '../helpers/ui-suite.ts';
import { formatBytes, formatPlatform } from '../../ui/src/lib/format.ts';
import type { ManifestDetail } from '../../ui/src/api/types.ts';

uiSuite('web UI: browsing', (ui) => {
  const { session } = ui;
  /** Waits for the home page's lists (they load after the page). */
  const homeLoaded = (page: Page) => visible(page.getByRole('region', { name: 'Recently pushed' }).getByRole('link', { name: /alice\/web/ }));
  /** Waits for the repository page of alice/web with its README and tags (the heading shows before them). */
  const repositoryLoaded = async (page: Page) => {
    await visible(page.getByRole('heading', { name: WEB.readmeHeading }));
    await visible(page.getByRole('table').getByRole('link', { name: 'latest', exact: true }));
  };

  it('searches from the home page: instant results, Enter for the results page, the official filter', () =>
    session('search', async ({ page, goto, assertClean }) => {
      await goto('/');
      await homeLoaded(page);
      await screenshot(page, 'home');
      const box = page.getByLabel('Search repositories');
      await box.fill('web');
      // The instant results appear beside the box: alice/web matches, bob/tools (listed further
      // down the home page among the recently pushed) does not.
      const instant = page.getByRole('region', { name: /results for web/i });
      await visible(instant.getByRole('link', { name: /alice\/web/ }));
      await visible(instant.getByRole('link', { name: /nginx/ }));
      assert.equal(await instant.getByRole('link', { name: /bob\/tools/ }).count(), 0, 'bob/tools among the instant results for "web"');
      await box.press('Enter');
      await page.waitForURL((url) => url.pathname === '/search' && url.searchParams.get('q') === 'web');
      const results = page.locator('main');
      await visible(results.getByRole('link', { name: /alice\/web/ }));
      await visible(results.getByRole('link', { name: /nginx/ }));
      assert.equal(await results.getByRole('link', { name: /bob\/tools/ }).count(), 0, 'bob/tools does not match "web"');
      await screenshot(page, 'search');
      // Only official images: nginx (matched by its description), not alice/web.
      const official = page.getByLabel(/official/i).or(page.getByRole('button', { name: /official/i })).or(page.getByRole('link', { name: /official/i }));
      await official.first().click();
      await eventually('official filter applied', () => results.getByRole('link', { name: /alice\/web/ }).count(), (n) => n === 0);
      await visible(results.getByRole('link', { name: /nginx/ }));
      assertClean();
    }));

  it('shows a repository: heading, sanitised README, pull command with Copy, tags and their filter', () =>
    session(
      'repository',
      async ({ page, goto, assertClean }) => {
        await goto('/r/alice/web');
        await visible(page.getByRole('heading', { level: 1, name: 'alice/web' }));
        await repositoryLoaded(page);
        await visible(page.getByText(WEB.description));
        // The README, rendered: its heading is a heading; neither payload ran or survived.
        await visible(page.getByRole('heading', { name: WEB.readmeHeading }));
        await visible(page.getByRole('link', { name: 'Project page' }));
        assert.equal(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned), undefined, 'a README payload ran');
        assert.equal(await page.locator('[onerror]').count(), 0, 'an onerror attribute is in the DOM');
        assert.equal(await page.locator('main script').count(), 0, 'a script element is in the rendered README');
        // The tags, each a link.
        const tags = page.getByRole('table');
        for (const tag of WEB.tags) await visible(tags.getByRole('link', { name: tag, exact: true }));
        await screenshot(page, 'repository');
        // The pull command names this registry; Copy puts it on the clipboard and says so.
        const pull = `docker pull ${ui.seed.host}/alice/web`;
        await visible(page.getByText(pull, { exact: false }));
        await page.getByRole('button', { name: 'Copy' }).first().click();
        // Said in a live region, so screen readers announce it too.
        await visible(page.locator('[aria-live]').getByText('Copied'));
        assert.match(await page.evaluate(() => navigator.clipboard.readText()), new RegExp(`^${pull.replace(/[.]/g, '\\.')}`));
        // The filter narrows the tags.
        await page.getByLabel('Filter tags').fill('1.');
        await gone(tags.getByRole('link', { name: 'latest', exact: true }));
        await gone(tags.getByRole('link', { name: 'multi', exact: true }));
        await visible(tags.getByRole('link', { name: '1.0', exact: true }));
        await visible(tags.getByRole('link', { name: '1.1', exact: true }));
        assertClean();
      },
      { permissions: ['clipboard-read', 'clipboard-write'] },
    ));

  it('shows an image tag: layers, configuration, history, referrers and the raw manifest', () =>
    session('tag', async ({ page, goto, reload, assertClean }) => {
      await goto('/r/alice/web');
      await page.getByRole('table').getByRole('link', { name: '1.0', exact: true }).click();
      for (const name of ['Layers', 'Configuration', 'History', 'Referrers', 'Raw manifest']) {
        await visible(page.getByRole('heading', { name, exact: true }));
      }
      await screenshot(page, 'tag');
      // Each fact in its own section (a region named by its heading).
      const section = async (name: string) => (await page.getByRole('region', { name, exact: true }).innerText()).replace(/\s+/g, ' ');
      const configuration = await section('Configuration');
      for (const fact of [WEB.entrypoint, ...WEB.cmd, WEB.labelKey, WEB.labelValue, WEB.env, WEB.port]) {
        assert.ok(configuration.includes(fact), `Configuration does not show ${fact}: ${configuration.slice(0, 400)}`);
      }
      assert.ok((await section('History')).includes(WEB.historyStep), 'History does not show the apk add step');
      assert.equal(await page.getByRole('region', { name: 'Layers', exact: true }).getByRole('row').count(), 1 + 3, 'Layers: a header and 3 rows');
      const referrers = await section('Referrers');
      assert.ok(referrers.includes(NOTARY_SIGNATURE), `Referrers does not list the signature's artifact type: ${referrers}`);
      assert.ok(referrers.includes(ui.seed.web.signature.digest.slice(7, 19)), `Referrers does not show the signature's digest: ${referrers}`);
      // The raw manifest, once unfolded, is the JSON as pushed.
      const raw = page.getByRole('region', { name: 'Raw manifest', exact: true });
      await raw.getByText(/manifest JSON/i).first().click();
      const json = await visible(raw.getByLabel('Manifest JSON').or(raw.locator('pre')).first());
      assert.deepEqual(JSON.parse(await json.innerText()), ui.seed.web['1.0'].manifest);
      assert.ok((await mainText(page)).includes(ui.seed.web['1.0'].descriptor.digest), "the image's digest is not shown");
      // The tag's address works on its own: a reload (or a bookmark) shows the same page.
      const direct = await fetch(page.url(), { headers: { accept: 'text/html' } });
      const body = await direct.text();
      assert.ok(direct.status === 200 && /<div id="app">/.test(body), `GET ${new URL(page.url()).pathname} answers ${direct.status} ${body.slice(0, 120)}, not the UI`);
      await reload();
      await visible(page.getByRole('heading', { name: 'Layers', exact: true }));
      assertClean();
    }));

  it("shows an index's platforms", () =>
    session('platforms', async ({ page, goto, assertClean }) => {
      await goto('/r/alice/web');
      await page.getByRole('table').getByRole('link', { name: 'multi', exact: true }).click();
      const platforms = page.getByRole('region', { name: 'Platforms', exact: true });
      await visible(platforms.getByRole('heading', { name: 'Platforms', exact: true }));
      await visible(platforms.getByText('linux/amd64').first());
      await visible(platforms.getByText('linux/arm64').first());
      // Each platform's size is its image's (manifest, config and layers), not its manifest's.
      await visible(platforms.getByRole('columnheader', { name: 'Image size' }));
      const index = (await ui.seed.call('GET', '/api/v1/repositories/alice/web/_manifests/multi')).body as ManifestDetail;
      for (const p of index.platforms ?? []) {
        const image = (await ui.seed.call('GET', `/api/v1/repositories/alice/web/_manifests/${p.digest}`)).body as ManifestDetail;
        const row = (await platforms.getByRole('row', { name: new RegExp(formatPlatform(p.platform)) }).innerText()).replace(/\s+/g, ' ');
        assert.ok(row.endsWith(formatBytes(image.totalSize)), `${formatPlatform(p.platform)} shows ${row}, want the image's ${formatBytes(image.totalSize)} (its manifest is ${formatBytes(p.size)})`);
      }
      await screenshot(page, 'platforms');
      // A platform opens its own image.
      await platforms.getByRole('row', { name: /linux\/arm64/ }).getByRole('link').first().click();
      await visible(page.getByRole('heading', { name: 'Layers', exact: true }));
      assert.match(await page.getByRole('region', { name: 'Configuration', exact: true }).innerText(), /arm64/);
      assertClean();
    }));

  it('passes the accessibility smoke test on the home, repository and tag pages', () =>
    session('accessibility', async ({ page, goto, assertClean }) => {
      const pages: [string, () => Promise<void>][] = [
        ['/', async () => {
          await goto('/');
          await homeLoaded(page);
        }],
        ['/r/alice/web', async () => {
          await goto('/r/alice/web');
          await repositoryLoaded(page);
        }],
        ['tag 1.0', async () => {
          await goto('/r/alice/web');
          await page.getByRole('table').getByRole('link', { name: '1.0', exact: true }).click();
          await visible(page.getByRole('region', { name: 'Referrers' }).getByText(NOTARY_SIGNATURE));
        }],
      ];
      const problems: string[] = [];
      for (const [what, open] of pages) {
        await open();
        for (const p of await accessibilityProblems(page)) problems.push(`${what}: ${p}`);
        for (const p of await contrastProblems(page)) problems.push(`${what}, contrast: ${p}`);
      }
      assert.deepEqual(problems, []);
      assertClean();
    }));

  it('fits a phone-width screen without horizontal scrolling', () =>
    session(
      'phone',
      async ({ page, goto, assertClean }) => {
        await goto('/r/alice/web');
        await repositoryLoaded(page);
        const width = await scrollWidth(page);
        assert.ok(width <= 376, `the page scrolls sideways: scrollWidth ${width} on a 375 px screen`);
        await screenshot(page, 'repository-phone');
        assertClean();
      },
      PHONE,
    ));

  it('follows the dark colour scheme', async () => {
    let light = '';
    await session('light', async ({ page, goto }) => {
      await goto('/r/alice/web');
      await visible(page.getByRole('heading', { level: 1, name: 'alice/web' }));
      light = await backgroundColor(page);
    });
    await session(
      'dark',
      async ({ page, goto, assertClean }) => {
        await goto('/r/alice/web');
        await repositoryLoaded(page);
        const dark = await backgroundColor(page);
        assert.notEqual(dark, light, `the body background is ${dark} in both schemes`);
        assert.deepEqual(await contrastProblems(page), [], 'text contrast in the dark scheme');
        await screenshot(page, 'repository-dark');
        assertClean();
      },
      { colorScheme: 'dark' },
    );
  });
});
