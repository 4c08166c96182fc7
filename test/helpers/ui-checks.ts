/**
 * What the web UI's tests check on many pages: an accessibility smoke test (names, alt texts, one
 * h1, the skip link), horizontal overflow, colours, signing in through the form, and calls with a
 * browser's session cookie from Node.
 */
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { visible } from './browser.ts';

/** Problems a keyboard or screen-reader user would meet on the current page; [] when none. */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  const problems = await page.evaluate(() => {
    const found: string[] = [];
    const describe = (el: Element): string => {
      const id = el.id === '' ? '' : `#${el.id}`;
      const name = el.getAttribute('name');
      return `<${el.tagName.toLowerCase()}${id}${name === null ? '' : ` name=${name}`} type=${el.getAttribute('type') ?? ''}>`;
    };
    const textOf = (ids: string): string =>
      ids
        .split(/\s+/)
        .map((id) => document.getElementById(id)?.textContent ?? '')
        .join(' ')
        .trim();
    for (const el of document.querySelectorAll('input, select, textarea')) {
      if (el instanceof HTMLInputElement && el.type === 'hidden') continue;
      const field = el as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
      const label = [...(field.labels ?? [])].map((l) => l.textContent ?? '').join(' ').trim();
      const aria = field.getAttribute('aria-label')?.trim() ?? '';
      const labelledBy = textOf(field.getAttribute('aria-labelledby') ?? '');
      const title = field.getAttribute('title')?.trim() ?? '';
      if (label === '' && aria === '' && labelledBy === '' && title === '') found.push(`form field without an accessible name: ${describe(el)}`);
    }
    for (const img of document.querySelectorAll('img')) {
      if (!img.hasAttribute('alt')) found.push(`image without alt: ${img.getAttribute('src') ?? ''}`);
    }
    for (const el of document.querySelectorAll('[role="img"]')) {
      if ((el.getAttribute('aria-label') ?? '').trim() === '' && textOf(el.getAttribute('aria-labelledby') ?? '') === '') {
        found.push(`role=img without a name: ${describe(el)}`);
      }
    }
    const h1 = document.querySelectorAll('h1');
    if (h1.length !== 1) found.push(`${h1.length} h1 elements (${[...h1].map((h) => JSON.stringify(h.textContent)).join(', ')}), want exactly one`);
    for (const el of document.querySelectorAll('a, button')) {
      const name = (el.getAttribute('aria-label') ?? '') + (el.textContent ?? '') + textOf(el.getAttribute('aria-labelledby') ?? '') + (el.getAttribute('title') ?? '');
      const imgAlt = [...el.querySelectorAll('img, svg')].map((i) => i.getAttribute('alt') ?? i.getAttribute('aria-label') ?? '').join('');
      if ((name + imgAlt).trim() === '') found.push(`${el.tagName.toLowerCase()} without a name: ${el.outerHTML.slice(0, 120)}`);
    }
    return found;
  });
  const skip = await skipLinkProblem(page);
  if (skip !== undefined) problems.push(skip);
  return problems;
}

/** Tab from the top of the page must reach a "skip to content" link first, whose target exists. */
async function skipLinkProblem(page: Page): Promise<string | undefined> {
  await page.evaluate(() => {
    (document.activeElement as HTMLElement | null)?.blur();
    window.scrollTo(0, 0);
  });
  // Focus the document itself, so the next Tab starts from the top as after a page load.
  await page.evaluate(() => {
    const body = document.body;
    body.tabIndex = -1;
    body.focus();
    body.removeAttribute('tabindex');
  });
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => {
    const el = document.activeElement;
    if (el === null || el === document.body) return { tag: 'none', text: '', href: '', target: false, visible: false };
    const href = el.getAttribute('href') ?? '';
    const target = href.startsWith('#') && href.length > 1 && document.getElementById(decodeURIComponent(href.slice(1))) !== null;
    const box = el.getBoundingClientRect();
    return { tag: el.tagName.toLowerCase(), text: (el.textContent ?? '').trim(), href, target, visible: box.width > 1 && box.height > 1 };
  });
  await page.keyboard.press('Escape');
  if (first.tag !== 'a' || !/skip/i.test(first.text)) return `the first Tab stop is not a skip link: <${first.tag} href="${first.href}">${first.text}`;
  if (!first.target) return `the skip link points at nothing: href="${first.href}"`;
  if (!first.visible) return 'the skip link is not visible when focused';
  return undefined;
}

/** document.documentElement.scrollWidth, the width the page scrolls to. */
export function scrollWidth(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth);
}

/** The computed background colour of the body (or the html element when the body's is transparent). */
export function backgroundColor(page: Page): Promise<string> {
  return page.evaluate(() => {
    const body = getComputedStyle(document.body).backgroundColor;
    return body === 'rgba(0, 0, 0, 0)' ? getComputedStyle(document.documentElement).backgroundColor : body;
  });
}

/** Signs in through the sign-in form reached from the header's "Sign in" link. */
export async function signInWithForm(page: Page, user: string, password: string): Promise<void> {
  await page.getByRole('link', { name: 'Sign in' }).first().click();
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The signed-in user of the browser's session as the API says it ({user: null} when none). */
export async function sessionOf(page: Page): Promise<{ user: { name: string } | null; csrfToken: string | null }> {
  return page.evaluate(async () => (await (await fetch('/api/v1/session')).json()) as { user: { name: string } | null; csrfToken: string | null });
}

/** The berth_session cookie of a browser context, as a Cookie header value, and its flags. */
export async function sessionCookie(context: BrowserContext): Promise<{ header: string; httpOnly: boolean; sameSite: string; secure: boolean; path: string }> {
  const cookies = await context.cookies();
  const cookie = cookies.find((c) => c.name === 'berth_session');
  assert.ok(cookie, `no berth_session cookie; the context has: ${cookies.map((c) => c.name).join(', ') || 'none'}`);
  return { header: `${cookie.name}=${cookie.value}`, httpOnly: cookie.httpOnly, sameSite: cookie.sameSite, secure: cookie.secure, path: cookie.path };
}

/** Waits until the header shows a signed-in user (a "Sign out" button exists, possibly in a menu). */
export async function waitSignedIn(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).first().waitFor({ state: 'attached' });
}

/** Waits for the "Sign in" link of a signed-out header. */
export async function waitSignedOut(page: Page): Promise<void> {
  await visible(page.getByRole('link', { name: 'Sign in' }));
}
