/**
 * What the web UI's tests check on many pages: an accessibility smoke test (names, alt texts, one
 * h1, the skip link), text contrast (WCAG AA), horizontal overflow, colours, signing in through the form, and calls with a
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

/**
 * Text whose contrast with what is behind it is below WCAG AA: 4.5:1, or 3:1 for large text (24 px,
 * or 18.66 px bold). The background is the nearest ancestor's opaque colour, semi-transparent ones
 * blended over it; disabled controls are exempt (as WCAG has it), as is visually hidden text.
 */
export async function contrastProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    type Rgba = [number, number, number, number];
    const parse = (c: string): Rgba => {
      const m = /rgba?\(([^)]+)\)/.exec(c);
      if (m === null) return [0, 0, 0, 0];
      const [r = 0, g = 0, b = 0, a = 1] = (m[1] ?? '').split(/[\s,/]+/).filter(Boolean).map(Number);
      return [r, g, b, a];
    };
    const over = (top: Rgba, bottom: Rgba): Rgba => {
      const a = top[3];
      return [top[0] * a + bottom[0] * (1 - a), top[1] * a + bottom[1] * (1 - a), top[2] * a + bottom[2] * (1 - a), 1];
    };
    const backgroundOf = (el: Element | null): Rgba => {
      const layers: Rgba[] = [];
      for (let e = el; e !== null; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c[3] > 0) layers.push(c);
        if (c[3] >= 1) break;
      }
      let colour: Rgba = [255, 255, 255, 1];
      for (const layer of layers.reverse()) colour = over(layer, colour);
      return colour;
    };
    const luminance = ([r, g, b]: Rgba): number => {
      const ch = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b);
    };
    const found: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set<Element>();
    for (let n = walker.nextNode(); n !== null; n = walker.nextNode()) {
      const el = n.parentElement;
      if (el === null || seen.has(el) || (n.textContent ?? '').trim() === '') continue;
      seen.add(el);
      const style = getComputedStyle(el);
      const box = el.getBoundingClientRect();
      if (box.width <= 1 || box.height <= 1 || style.visibility === 'hidden' || Number(style.opacity) === 0) continue;
      if (el.closest('button:disabled, input:disabled, select:disabled, textarea:disabled, [aria-disabled="true"]') !== null) continue;
      const background = backgroundOf(el);
      const fg = over(parse(style.color), background);
      const [l1, l2] = [luminance(fg), luminance(background)].sort((a, b) => b - a) as [number, number];
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      const size = Number.parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) {
        found.push(`${ratio.toFixed(2)}:1 for ${JSON.stringify((n.textContent ?? '').trim().slice(0, 40))} (<${el.tagName.toLowerCase()} class="${el.className}">, ${style.color} on rgb(${background.slice(0, 3).map(Math.round).join(', ')}))`);
      }
    }
    return found.slice(0, 15);
  });
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

/** A phone's screen, for UiSession.open()'s options: 375 px wide, touch, twice the pixels. */
export const PHONE = { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } as const;

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
