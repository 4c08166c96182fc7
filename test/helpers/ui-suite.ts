/**
 * One UI test file's frame: a describe() that skips when Chromium or the built UI is missing (see
 * requireBrowser()), with one browser and one seeded registry (seedRegistry(), or another seed) for
 * its tests.
 */
import { after, before, describe } from 'node:test';
import { requireBrowser, UiSession, useBrowser, type SessionOptions } from './browser.ts';
import { seedRegistry, type Seeded } from './ui-seed.ts';

/** What a suite needs of its registry. */
export interface SeededRegistry {
  /** http://127.0.0.1:PORT */
  url: string;
  stop(): Promise<void>;
}

export interface UiSuite<S extends SeededRegistry = Seeded> {
  /** The seeded registry; use it inside a test. */
  readonly seed: S;
  /** Runs `fn` in a fresh browser context on the seeded registry (UiSession.open(), then run()). */
  session(name: string, fn: (s: UiSession) => Promise<void>, opts?: SessionOptions): Promise<void>;
}

/** describe(title) with the browser launched and the registry seeded before its tests, both stopped after them. */
export function uiSuite(title: string, body: (ui: UiSuite) => void): void {
  uiSuiteOn(title, seedRegistry, body);
}

/** uiSuite() on a registry of the test's own: `seed` starts and fills it (only when the suite runs). */
export function uiSuiteOn<S extends SeededRegistry>(title: string, seed: () => Promise<S>, body: (ui: UiSuite<S>) => void): void {
  const gate = requireBrowser();
  describe(title, { skip: gate.skip }, () => {
    const ui = useBrowser(gate);
    let seeded: S | undefined;
    before(async () => {
      if (gate.skip !== false) return;
      seeded = await seed();
    });
    after(() => seeded?.stop());
    const suite: UiSuite<S> = {
      get seed() {
        if (seeded === undefined) throw new Error('registry not seeded: use it inside a test');
        return seeded;
      },
      session: (name, fn, opts = {}) => UiSession.open(ui.browser, suite.seed.url, opts).then((s) => s.run(name, fn)),
    };
    body(suite);
  });
}
