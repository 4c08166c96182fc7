/**
 * The replication page in headless Chromium, on a berth with two rules: a pull rule from a second
 * in-process berth holding lib/app:1 (pushed there by the copy engine from an OCI layout), and a
 * scheduled push rule, with a user and a password, to a remote that cannot be reached. An
 * administrator reaches the page from Administration, sees both rules (never the password),
 * runs the pull rule and sees it succeed with its counts and bytes (the image is then here), runs
 * the push rule (a second run refused while it goes on) and sees it fail with its reason; a user
 * who is not an administrator is told the page is for administrators, and the API refuses them.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { SYSTEM } from '../../src/auth/principal.ts';
import { copyImage } from '../../src/copy/engine.ts';
import { ociLayoutSource } from '../../src/copy/oci-layout.ts';
import { openRegistryDestination } from '../../src/copy/registry-transport.ts';
import { writeSingleArchLayout } from '../fixtures/oci.ts';
import { api } from '../helpers/api.ts';
import { expectAccessControl, headStatus, startAuthRegistry } from '../helpers/auth.ts';
import { AuthClient } from '../helpers/auth-client.ts';
import { eventually, screenshot, visible } from '../helpers/browser.ts';
import { startTestRegistry } from '../helpers/inproc.ts';
import { tempDir } from '../helpers/process.ts';
import { accessibilityProblems, PHONE, scrollWidth } from '../helpers/ui-checks.ts';
import { USERS } from '../helpers/ui-seed.ts';
import { uiSuiteOn } from '../helpers/ui-suite.ts';

/** As the page writes exact byte counts in titles. */
const whole = new Intl.NumberFormat('en');

/** The push rule's password at its remote: in no page and no answer. */
const SECRET = 'replication-remote-password-7f3a';

interface ReplicationSeed {
  url: string;
  /** The source berth of the pull rule. */
  upstream: string;
  /** lib/app:1 at the source. */
  digest: string;
  /** Its blob bytes, what a run copying it sends. */
  bytes: number;
  call: ReturnType<typeof api>;
  stop(): Promise<void>;
}

/** The source berth with lib/app:1; berth with the two rules, admin and alice, and alice/app:1 (what the push rule would send). */
async function seedReplication(): Promise<ReplicationSeed> {
  const work = await tempDir('ui-replication');
  const upstream = await startTestRegistry();
  const stops: (() => Promise<void>)[] = [() => rm(work, { recursive: true, force: true }), () => upstream.stop()];
  const stop = async (): Promise<void> => {
    await Promise.allSettled(stops.reverse().map((s) => s()));
  };
  try {
    const layout = await writeSingleArchLayout(join(work, 'lib-app-1'), { tag: '1', label: 'lib/app:1' });
    const dst = await openRegistryDestination(`docker://${upstream.url.replace(/^http:\/\//, '')}/lib/app:1`, { uploadStateDir: false });
    const pushed = await copyImage(ociLayoutSource(layout.dir, '1'), dst, { tag: '1' });
    await dst.close();
    const reg = await startAuthRegistry({
      replication: {
        rules: [
          { name: 'from-upstream', direction: 'pull', remote: { url: upstream.url }, filters: { repositories: ['lib/*'] } },
          {
            name: 'to-nowhere',
            direction: 'push',
            remote: { url: 'http://127.0.0.1:1', username: 'robot', password: SECRET },
            filters: { repositories: ['alice/*'], tags: ['*'] },
            trigger: { schedule: '0 3 * * *' },
            deletes: true,
          },
        ],
      },
    });
    stops.push(() => reg.stop());
    await reg.accounts.createUser(SYSTEM, USERS.admin.user, USERS.admin.password, true);
    await expectAccessControl(reg);
    const call = api(reg.url);
    const created = await call('POST', '/api/v1/users', { as: USERS.admin, body: { name: USERS.alice.user, password: USERS.alice.password } });
    assert.equal(created.status, 201, created.text);
    await new AuthClient(reg.url, USERS.alice, 'basic').pushImage('alice/app', '1', { layer: 'what the push rule would send' });
    return { url: reg.url, upstream: upstream.url, digest: pushed.digest, bytes: pushed.bytes, call, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

uiSuiteOn('web UI: replication', seedReplication, (ui) => {
  const { session } = ui;

  it('lists the rules without the password, runs the pull rule to success and shows the push rule failing with its reason', () =>
    session(
      'replication',
      async ({ page, goto, assertClean }) => {
        const { seed } = ui;
        await goto('/admin');
        await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Replication' }).click();
        await visible(page.getByRole('heading', { level: 1, name: 'Replication' }));
        const pull = page.getByRole('region', { name: 'from-upstream' });
        const push = page.getByRole('region', { name: 'to-nowhere' });
        await visible(pull.getByText('Pull: from the remote into berth'));
        await visible(pull.getByText(seed.upstream));
        await visible(pull.getByText(', anonymously'));
        await visible(push.getByText('Push: from berth to the remote'));
        await visible(push.getByText('http://127.0.0.1:1'));
        await visible(push.getByText('robot', { exact: true }));
        await visible(push.getByText('0 3 * * *', { exact: true }));
        await visible(push.getByText(/^yes: tags the source no longer has/));
        for (const rule of [pull, push]) await visible(rule.getByText('Never run'));
        assert.doesNotMatch(await page.content(), new RegExp(SECRET), 'the remote password in the page');
        const listed = await seed.call('GET', '/api/v1/replication', { as: USERS.admin });
        assert.equal(listed.status, 200, listed.text);
        assert.doesNotMatch(listed.text, new RegExp(SECRET), 'the remote password in the API answer');
        assert.deepEqual(await accessibilityProblems(page), []);

        // the pull rule: run, followed until it ends, then its runs
        await pull.getByRole('button', { name: 'Run now' }).click();
        await visible(pull.getByText('Succeeded', { exact: true }), 30_000);
        await visible(pull.getByText(/^1 copied, 0 skipped, 0 failed, 0 deleted; .+ sent$/));
        assert.equal(await pull.getByRole('button', { name: 'Run now' }).isEnabled(), true, 'Run now again once the run ended');
        assert.equal(await headStatus({ url: seed.url }, 'lib/app', seed.digest, USERS.admin), 200, 'lib/app:1 replicated here');
        const showRuns = pull.getByRole('button', { name: 'Show runs' });
        assert.equal(await showRuns.getAttribute('aria-expanded'), 'false');
        await showRuns.click();
        await visible(pull.getByRole('heading', { level: 3, name: 'Runs of from-upstream' }));
        assert.equal(await pull.getByRole('button', { name: 'Hide runs' }).getAttribute('aria-expanded'), 'true');
        const runs = pull.getByRole('table', { name: 'Runs of from-upstream, newest first' });
        const row = runs.getByRole('row').nth(1);
        await visible(row.getByRole('cell', { name: 'Succeeded' }));
        const cells = row.getByRole('cell');
        assert.deepEqual(await Promise.all([3, 4, 5, 6].map((i) => cells.nth(i).textContent())), ['1', '0', '0', '0'], 'copied, skipped, failed, deleted');
        assert.equal(await cells.nth(7).getAttribute('title'), `${whole.format(seed.bytes)} bytes`, 'the bytes of lib/app:1');
        assert.equal(await cells.nth(9).textContent(), 'None', 'no failures');
        assert.match((await cells.nth(1).textContent()) ?? '', /^By hand/);
        assert.equal(await runs.getByRole('row').count(), 2, 'a header row and the run');

        // the push rule: a run started elsewhere refuses "Run now" while it goes on (unless it ended already), then fails with its reason
        const started = await seed.call('POST', '/api/v1/replication/to-nowhere/trigger', { as: USERS.admin });
        assert.equal(started.status, 202, started.text);
        await push.getByRole('button', { name: 'Run now' }).click();
        const refused = push.getByRole('alert').getByText(/^Replication rule to-nowhere is running already: see its runs \(\w+\)\.$/);
        const again = page.getByText(/^Run \d+ of to-nowhere started$/);
        await visible(refused.or(again));
        await visible(push.getByText('Failed', { exact: true }), 30_000);
        await visible(push.getByText(/127\.0\.0\.1:1: HEAD .* failed after \d+ tries: .*ECONNREFUSED/));
        await visible(push.getByText('alice/app:1', { exact: true }));
        // with deletes, listing the remote's tags failed too
        await visible(push.getByText('alice/app (deletes)', { exact: true }));
        await visible(push.getByText(/^0 copied, 0 skipped, 2 failed, 0 deleted; 0 B sent$/));
        await eventually('Run now enabled once the push rule ended', () => push.getByRole('button', { name: 'Run now' }).isEnabled(), (on) => on);
        await push.getByRole('button', { name: 'Show runs' }).click();
        const pushRuns = push.getByRole('table', { name: 'Runs of to-nowhere, newest first' });
        await visible(pushRuns.getByRole('cell', { name: 'Failed', exact: true }));
        await visible(pushRuns.getByText('2 failures', { exact: true }));
        assert.deepEqual(await accessibilityProblems(page), []);
        assert.doesNotMatch(await page.content(), new RegExp(SECRET), 'the remote password in the page');
        await screenshot(page, 'admin-replication', { fullPage: true });

        await page.setViewportSize(PHONE.viewport);
        const width = await scrollWidth(page);
        assert.ok(width <= PHONE.viewport.width + 1, `the page scrolls sideways on a phone: scrollWidth ${width}`);
        // the refused click's 409, logged by Chromium, when it came
        assertClean([/Failed to load resource: the server responded with a status of 409\b/]);
      },
      { signIn: USERS.admin },
    ));

  it('tells a user who is not an administrator the page is not for them, and the API refuses them', () =>
    session(
      'replication-not-admin',
      async ({ page, goto, assertClean }) => {
        await goto('/admin/replication');
        await visible(page.getByText('Administrators only. You are signed in as alice, who is not an administrator.'));
        assert.equal(await page.getByRole('region', { name: 'from-upstream' }).count(), 0);
        assert.equal(await page.getByRole('button', { name: 'Run now' }).count(), 0);
        for (const [method, path] of [
          ['GET', '/api/v1/replication'],
          ['POST', '/api/v1/replication/from-upstream/trigger'],
          ['GET', '/api/v1/replication/from-upstream/runs'],
        ] as const) {
          const res = await ui.seed.call(method, path, { as: USERS.alice });
          assert.equal(res.status, 403, `${method} ${path} as alice: ${res.text}`);
        }
        assertClean();
      },
      { signIn: USERS.alice },
    ));
});
