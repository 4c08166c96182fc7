/**
 * The web UI of an open registry (no users yet, so no settings were ever saved) holding no official
 * image: the home page gives its width to the sections that list something, at desktop and phone
 * width, and says so once when nothing at all is there; a repository's created and updated times
 * are the same on its page, in search results, on its namespace's page and on the home page as the
 * API's (issue 13, items 7 and 9).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Page } from 'playwright-core';
import { screenshot, visible } from '../helpers/browser.ts';
import { PHONE, scrollWidth } from '../helpers/ui-checks.ts';
import { uiSuiteOn } from '../helpers/ui-suite.ts';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';
import { Client } from '../helpers/client.ts';
import { api } from '../helpers/api.ts';

/** An open registry with alice/app (pushed twice) and bob/tools: nothing official, nothing starred. */
async function seedOpen(): Promise<TestRegistry> {
  const reg = await startTestRegistry({ storage: 'inmemory' });
  try {
    const client = new Client(reg.url);
    await client.pushImage('alice/app', '1.0');
    await client.pushImage('bob/tools', '0.1');
    await new Promise((r) => setTimeout(r, 20));
    await client.pushImage('alice/app', '1.1', { layer: 'the second layer' });
    return reg;
  } catch (err) {
    await reg.stop();
    throw err;
  }
}

async function startEmpty(): Promise<TestRegistry> {
  return startTestRegistry({ storage: 'inmemory' });
}

/** The sections of the home page: name and width, once the lists have loaded. */
async function homeSections(page: Page): Promise<{ name: string; width: number }[]> {
  await visible(page.getByRole('region', { name: 'Recently pushed' }).getByRole('list').or(page.getByText('No repositories to show yet.')));
  return page.locator('.home-sections > section').evaluateAll((sections) =>
    sections.map((s) => ({ name: s.querySelector('h2')?.textContent ?? '', width: s.getBoundingClientRect().width })),
  );
}

uiSuiteOn('web UI: an open registry without official images', seedOpen, (ui) => {
  const { session } = ui;

  for (const [name, options] of [['home-open', {}], ['home-open-phone', PHONE]] as const) {
    it(`leaves out a home page section that lists nothing, the others taking its width (${name})`, () =>
      session(
        name,
        async ({ page, goto, assertClean }) => {
          await goto('/');
          await visible(page.getByRole('region', { name: 'Recently pushed' }).getByRole('link', { name: /alice\/app/ }));
          const sections = await homeSections(page);
          assert.deepEqual(sections.map((s) => s.name), ['Most starred', 'Recently pushed'], 'Official images lists nothing here');
          assert.equal(await page.getByText('Nothing here yet.').count(), 0);
          const main = await page.locator('.home-sections').evaluate((el) => el.getBoundingClientRect().width);
          // Side by side at desktop width, each half of the row (less the gap); one under the other on a phone.
          const share = options === PHONE ? 1 : 0.45;
          for (const s of sections) assert.ok(s.width >= main * share, `${s.name} is ${s.width} px of ${main} px`);
          const width = await scrollWidth(page);
          assert.ok(width <= (options === PHONE ? 376 : 1280), `the page scrolls sideways: scrollWidth ${width}`);
          await screenshot(page, name, { fullPage: true });
          assertClean();
        },
        options,
      ));
  }

  it("shows a repository's first push as created and its last as updated, the same on every page as in the API", () =>
    session('open-times', async ({ page, goto, assertClean }) => {
      const repo = (await api(ui.seed.url)('GET', '/api/v1/repositories/alice/app')).body as { createdAt: string | null; updatedAt: string | null };
      assert.ok(repo.createdAt !== null && repo.updatedAt !== null && repo.createdAt < repo.updatedAt, `the API's times: ${JSON.stringify(repo)}`);
      const datetime = (locator: ReturnType<Page['locator']>) => visible(locator).then((l) => l.first().getAttribute('datetime'));
      const card = (page: Page) => page.locator('li.repo-card').filter({ has: page.getByRole('link', { name: 'alice/app', exact: true }) }).locator('.updated time');

      await goto('/r/alice/app');
      assert.equal(await datetime(page.locator('dl.facts dt:text-is("Created") + dd time')), repo.createdAt, 'Created on the repository page');
      assert.equal(await datetime(page.locator('.repo-summary time')), repo.updatedAt, 'Updated on the repository page');
      await screenshot(page, 'repository-open');
      for (const path of ['/search?q=app', '/u/alice', '/']) {
        await goto(path);
        assert.equal(await datetime(card(page)), repo.updatedAt, `Updated on ${path}`);
      }
      assertClean();
    }));
});

uiSuiteOn('web UI: an empty open registry', startEmpty, (ui) => {
  it('says once that there is nothing to show, at the width of the page', () =>
    ui.session('home-empty', async ({ page, goto, assertClean }) => {
      await goto('/');
      const sections = await homeSections(page);
      assert.deepEqual(sections.map((s) => s.name), ['Recently pushed']);
      await visible(page.getByText('No repositories to show yet.'));
      await screenshot(page, 'home-empty');
      assertClean();
    }));
});
