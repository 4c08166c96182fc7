/**
 * Headless Chromium for the web UI's tests (test/ui/): Debian's /usr/bin/chromium driven by
 * playwright-core, one browser per test file and a fresh context per test.
 *
 * Every context records the URLs its pages asked for, console errors, uncaught page errors and
 * Content-Security-Policy violations; `assertClean()` fails when a page talked to another host
 * than the registry under test or logged an error. A suite skips, with a printed reason, when
 * Chromium or the built UI (ui/dist/index.html, `npm run build:ui`) is missing; under CI=true
 * either fails instead (.ci/run installs Chromium, and `npm test` builds the UI first).
 *
 * Screenshots go to test/artifacts/ui/<name>.png (gitignored); with UPDATE_SCREENSHOTS=1 also to
 * docs/screenshots/<name>.png, the set the README shows. A test that fails inside `UiSession.run()`
 * leaves test/artifacts/ui/failed-<test name>.png behind.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Locator, type Page, type Request } from 'playwright-core';
import { IN_CI, REPO_ROOT } from './process.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const UI_INDEX = join(REPO_ROOT, 'ui', 'dist', 'index.html');
export const ARTIFACTS = join(REPO_ROOT, 'test', 'artifacts', 'ui');
export const SCREENSHOTS = join(REPO_ROOT, 'docs', 'screenshots');

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * How long a user-visible condition may take to appear (the UI fetches, then renders). Passing
 * waits end as soon as it holds; the bound is for a loaded CI machine of two cores.
 */
export const WAIT = 15_000;

/**
 * Gate for a UI suite, as requireTools() in process.ts: `skip` is a reason (pass it to describe's
 * `skip`) when Chromium or the built UI is missing; `check()` (call it in before()) throws when
 * either is missing under CI=true, where `skip` is false.
 */
export function requireBrowser(): { skip: string | false; check(): void } {
  const noChromium = existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed (Debian package chromium)`;
  const noUi = existsSync(UI_INDEX) ? false : `${UI_INDEX} missing (run npm run build:ui)`;
  const reason = noChromium === false ? noUi : noChromium;
  const skip = IN_CI ? false : reason;
  if (skip !== false) console.log(`# skipping: ${skip}`);
  return {
    skip,
    check() {
      if (noChromium !== false) throw new Error(`${noChromium} (required under CI=true; .ci/run installs it)`);
      if (noUi !== false) throw new Error(noUi);
    },
  };
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

/** One browser for the enclosing describe(): launched before its tests, closed after them. */
export function useBrowser(gate: { skip: string | false; check(): void }): { readonly browser: Browser } {
  let browser: Browser | undefined;
  before(async () => {
    if (gate.skip !== false) return;
    gate.check();
    browser = await launchBrowser();
  });
  after(() => browser?.close());
  return {
    get browser() {
      if (browser === undefined) throw new Error('browser not launched: use it inside a test');
      return browser;
    },
  };
}

export interface SessionOptions extends BrowserContextOptions {
  /** Sign in through the JSON API (POST /api/v1/session) before the first page loads. */
  signIn?: { user: string; password: string };
}

/** A fresh browser context on the registry at `base`, with one page and what they recorded. */
export class UiSession {
  /** Every URL a page of this context requested, in order. */
  readonly requests: string[] = [];
  /** Requests under way. */
  private readonly inFlight = new Set<Request>();
  /** Console errors, uncaught exceptions and CSP violations, each as one line. */
  readonly errors: string[] = [];

  private constructor(
    readonly base: string,
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  static async open(browser: Browser, base: string, opts: SessionOptions = {}): Promise<UiSession> {
    const { signIn, ...contextOptions } = opts;
    const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 800 }, ...contextOptions });
    context.setDefaultTimeout(WAIT);
    context.setDefaultNavigationTimeout(15_000);
    // tsx (esbuild with keepNames) compiles the functions these tests pass to page.evaluate() with
    // calls to a helper __name(fn, name) that only exists in Node: give pages a no-op one.
    await context.addInitScript({ content: 'globalThis.__name = globalThis.__name || ((fn) => fn);' });
    // Report every CSP violation as a console error too, naming the directive and what it blocked.
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
      });
    });
    const page = await context.newPage();
    const session = new UiSession(base, context, page);
    context.on('request', (req) => {
      session.requests.push(req.url());
      session.inFlight.add(req);
    });
    context.on('requestfinished', (req) => session.inFlight.delete(req));
    context.on('requestfailed', (req) => session.inFlight.delete(req));
    context.on('console', (msg) => {
      if (msg.type() === 'error') session.errors.push(`console: ${msg.text()} (${msg.location().url})`);
    });
    context.on('weberror', (err) => session.errors.push(`page error: ${err.error().stack ?? err.error().message}`));
    if (signIn !== undefined) {
      const res = await context.request.post(`${base}/api/v1/session`, { data: { username: signIn.user, password: signIn.password } });
      assert.equal(res.status(), 200, `sign-in of ${signIn.user} through the API: ${res.status()} ${await res.text()}`);
    }
    return session;
  }

  /**
   * Runs `fn`; when it throws, saves a screenshot as failed-<name>.png and adds what the pages
   * logged to the error. Closes the context in any case.
   */
  async run(name: string, fn: (s: UiSession) => Promise<void>): Promise<void> {
    try {
      await fn(this);
    } catch (err) {
      const file = join(ARTIFACTS, `failed-${slug(name)}.png`);
      try {
        await mkdir(ARTIFACTS, { recursive: true });
        await this.page.screenshot({ path: file, fullPage: true });
      } catch {
        // the page may be gone
      }
      if (err instanceof Error) {
        let extra = `\n  at ${this.page.url()}; screenshot ${file}`;
        if (this.errors.length > 0) extra += `\n  page errors:\n    ${this.errors.join('\n    ')}`;
        // Reporters print the stack, which repeats the message as it was when the error was made.
        if (err.stack?.includes(err.message)) err.stack = err.stack.replace(err.message, err.message + extra);
        err.message += extra;
      }
      throw err;
    } finally {
      await this.context.close();
    }
  }

  /** Navigates to a path of the registry and waits for the page to settle. */
  readonly goto = async (path: string): Promise<void> => {
    await this.page.goto(path, { waitUntil: 'load' });
    await this.settle();
  };

  /** Reloads the page and waits for it to settle. */
  readonly reload = async (): Promise<void> => {
    await this.page.reload({ waitUntil: 'load' });
    await this.settle();
  };

  /**
   * Waits until no request has been under way for 100 ms (the page fetched what it shows), at
   * most 5 s: Playwright's networkidle, with a shorter quiet time.
   */
  readonly settle = async (): Promise<void> => {
    const deadline = Date.now() + WAIT;
    let quietSince = Date.now();
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      if (this.inFlight.size > 0) quietSince = Date.now();
      else if (Date.now() - quietSince >= 100) return;
    }
  };

  /**
   * Asserts that every request went to the registry under test (data: and blob: URLs aside) and
   * that nothing was logged as an error, except messages matching `allow` (such as the browser's
   * own "Failed to load resource: … 401" for a request the test expects to be refused).
   */
  readonly assertClean = (allow: RegExp[] = []): void => {
    const origin = new URL(this.base).origin;
    const foreign = this.requests.filter((url) => !/^(data|blob):/.test(url) && new URL(url).origin !== origin);
    assert.deepEqual(foreign, [], `requests to other hosts than ${origin}`);
    const errors = this.errors.filter((e) => !allow.some((re) => re.test(e)));
    assert.deepEqual(errors, [], 'console errors, page errors or CSP violations');
  };
}

/**
 * The line Chromium logs by itself for a response with one of `statuses` (such as the 401 of a
 * wrong password), for assertClean's `allow` when the test expects such an answer.
 */
export function failedResource(...statuses: number[]): RegExp {
  return new RegExp(`Failed to load resource: the server responded with a status of (${statuses.join('|')})\\b`);
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80);
}

/**
 * Saves a screenshot of the page (the viewport unless fullPage) to test/artifacts/ui/<name>.png,
 * and with UPDATE_SCREENSHOTS=1 to docs/screenshots/<name>.png too. Dismisses notifications and
 * waits for web fonts and running transitions first, so the picture is the settled page.
 */
export async function screenshot(page: Page, name: string, opts: { fullPage?: boolean } = {}): Promise<string> {
  // Notifications ("Copied", "Token created") are dismissed, as a user would.
  for (const dismiss of await page.locator('[aria-live]').getByRole('button', { name: 'Dismiss' }).all()) await dismiss.click().catch(() => undefined);
  await page.evaluate(async () => {
    // A settled page: no focus ring left on a heading focused after navigation, fonts loaded.
    (document.activeElement as HTMLElement | null)?.blur();
    await document.fonts.ready;
    await Promise.all(document.getAnimations().map((a) => a.finished.catch(() => undefined)));
  });
  await mkdir(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: opts.fullPage ?? false, animations: 'disabled', caret: 'hide' });
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    await mkdir(SCREENSHOTS, { recursive: true });
    await copyFile(file, join(SCREENSHOTS, `${name}.png`));
  }
  return file;
}

/** Waits until the locator is visible; fails naming the locator. */
export async function visible(locator: Locator, timeout = WAIT): Promise<Locator> {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch {
    assert.fail(`not visible within ${timeout} ms: ${locator}`);
  }
  return locator;
}

/** Waits until no element matches the locator (or none is visible). */
export async function gone(locator: Locator, timeout = WAIT): Promise<void> {
  try {
    await locator.first().waitFor({ state: 'hidden', timeout });
  } catch {
    assert.fail(`still visible after ${timeout} ms: ${locator}`);
  }
}

/**
 * Polls `probe` until `check` accepts its value (returns true) or time runs out, then fails with
 * `what` and the last value seen.
 */
export async function eventually<T>(what: string, probe: () => Promise<T>, check: (value: T) => boolean, timeout = WAIT): Promise<T> {
  const deadline = Date.now() + timeout;
  let last: T | undefined;
  let error: unknown;
  for (;;) {
    try {
      last = await probe();
      error = undefined;
      if (check(last)) return last;
    } catch (err) {
      error = err;
    }
    if (Date.now() > deadline) {
      const seen = error === undefined ? JSON.stringify(last) : String(error);
      assert.fail(`${what}: not so within ${timeout} ms; last seen: ${seen}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The visible text of the page's main content (or body), whitespace collapsed. */
export async function mainText(page: Page): Promise<string> {
  const main = page.locator('main');
  const text = (await main.count()) > 0 ? await main.first().innerText() : await page.locator('body').innerText();
  return text.replace(/\s+/g, ' ');
}
