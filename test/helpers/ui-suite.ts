/**
 * One UI test file's frame: a describe() that skips when Chromium or the built UI is missing (see
 * requireBrowser()), with one browser and one seeded registry (seedRegistry()) for its tests.
 */
import { after, before, describe } from 'node:test';
import { requireBrowser, UiSession, useBrowser, type SessionOptions } from './browser.ts';
import { seedRegistry, type Seeded } from './ui-seed.ts';

export interface UiSuite {
  /** The seeded registry; use it inside a test. */
  readonly seed: Seeded;
  /** Runs `fn` in a fresh browser context on the seeded registry (UiSession.open(), then run()). */
  session(name: string, fn: (s: UiSession) => Promise<void>, opts?: SessionOptions): Promise<void>;
}

/** describe(title) with the browser launched and the registry seeded before its tests, both stopped after them. */
export function uiSuite(title: string, body: (ui: UiSuite) => void): void {
  const gate = requireBrowser();
  describe(title, { skip: gate.skip }, () => {
    const ui = useBrowser(gate);
    let seeded: Seeded | undefined;
    before(async () => {
      if (gate.skip !== false) return;
      seeded = await seedRegistry();
    });
    after(() => seeded?.stop());
    const suite: UiSuite = {
      get seed() {
        if (seeded === undefined) throw new Error('registry not seeded: use it inside a test');
        return seeded;
      },
      session: (name, fn, opts = {}) => UiSession.open(ui.browser, suite.seed.url, opts).then((s) => s.run(name, fn)),
    };
    body(suite);
  });
}
