/**
 * The replication page in headless Chromium, on a berth with two rules: a pull rule from a second
 * in-process berth holding lib/app:1 (pushed there by the copy engine from an OCI layout), and a
 * scheduled push rule, with a user and a password, to a remote that cannot be reached. An
 * administrator reaches the page from Administration, sees both rules (never the password),
 * runs the pull rule and sees it succeed with its counts and bytes (the image is then here), runs
 * the push rule (a second run refused while it goes on) and sees it fail with its reason; a user
 * who is not an administrator is told the page is for administrators, and the API refuses them.
 * Then an administrator adds a push rule through the form (its invalid cron refused by the
 * server, the reason shown in the form) whose remote needs a password: this berth itself, under
 * mirror/, as the administrator. It runs, its filters change with the password kept (it runs
 * again, so the kept password still opens the remote), and it is deleted with its runs; the
 * configuration file's rules have no Edit or Delete.
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
import { eventually, failedResource, gone, screenshot, visible } from '../helpers/browser.ts';
import { startTestRegistry } from '../helpers/inproc.ts';
import { tempDir } from '../helpers/process.ts';
import { accessibilityProblems, contrastProblems, PHONE, scrollWidth } from '../helpers/ui-checks.ts';
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

  it('adds a rule through the form, runs it, changes its filters keeping the password, and deletes it; the configuration\'s rules stay as they are', () =>
    session(
      'replication-rule-form',
      async ({ page, goto, assertClean }) => {
        const { seed } = ui;
        // the remote of the rule: this berth, which refuses anonymous pushes
        const anonymous = await fetch(`${seed.url}/v2/mirror/alice/app/manifests/1`, { method: 'HEAD' });
        assert.equal(anonymous.status, 401, 'the remote needs credentials');
        await goto('/admin/replication');
        await visible(page.getByRole('heading', { level: 1, name: 'Replication' }));
        for (const name of ['from-upstream', 'to-nowhere']) {
          const rule = page.getByRole('region', { name });
          await visible(rule.getByText(/^From the configuration file/));
          assert.equal(await rule.getByRole('button', { name: /^(Edit|Delete)/ }).count(), 0, `no Edit or Delete for ${name}, a rule of the configuration file`);
        }

        await page.getByRole('button', { name: 'Add rule' }).click();
        const form = page.getByRole('form', { name: 'New replication rule' });
        await visible(form);
        assert.equal(await page.evaluate(() => document.activeElement?.id), 'rr-new-name', 'the name field has the focus');
        assert.equal(await form.getByRole('checkbox', { name: /^On push/ }).count(), 0, 'on push only for push rules');
        await form.getByLabel('Name', { exact: true }).fill('ui-push');
        await form.getByLabel('Direction').selectOption('push');
        await visible(form.getByRole('checkbox', { name: /^On push/ }));
        await form.getByLabel('Remote URL').fill(seed.url);
        await form.getByLabel('Username', { exact: true }).fill(USERS.admin.user);
        const password = form.getByLabel('Password', { exact: true });
        assert.equal(await password.getAttribute('type'), 'password');
        await password.fill(USERS.admin.password);
        await form.getByLabel('Remote prefix (optional)').fill('mirror');
        await form.getByLabel('Repositories', { exact: true }).fill('alice/*');
        await form.getByLabel('Tags', { exact: true }).fill('1');
        await form.getByLabel('Schedule (cron, UTC)').fill('every day');
        assert.deepEqual(await accessibilityProblems(page), []);
        assert.deepEqual(await contrastProblems(page), []);
        await form.getByRole('button', { name: 'Add rule' }).click();
        // the server's reason, beside the form, which stays as it was
        await visible(form.getByRole('alert').getByText(/^That request was not accepted \(REQUEST_INVALID: invalid rule: trigger\.schedule: not a cron schedule: .+\)\.$/));
        assert.equal(await page.getByRole('region', { name: 'ui-push' }).count(), 0);
        await screenshot(page, 'admin-replication-rule-form', { fullPage: true });
        await form.getByLabel('Schedule (cron, UTC)').fill('0 4 * * *');
        await form.getByRole('button', { name: 'Add rule' }).click();
        await gone(form);

        const rule = page.getByRole('region', { name: 'ui-push' });
        await visible(rule.getByText(/^Made here by admin/));
        await visible(rule.getByText('Push: from berth to the remote'));
        await visible(rule.getByText(seed.url));
        await visible(rule.getByText('mirror/', { exact: true }));
        await visible(rule.getByText('0 4 * * *', { exact: true }));
        await visible(rule.getByText('Never run'));
        await visible(rule.getByText(/^4 blobs and 2 images at once; no bandwidth limit$/));
        await visible(rule.getByText('every platform', { exact: true }));
        assert.equal(await page.getByRole('button', { name: 'Add rule' }).evaluate((b) => b === document.activeElement), true, 'the focus back on Add rule');
        const made = await seed.call('GET', '/api/v1/replication/ui-push', { as: USERS.admin });
        assert.equal(made.status, 200, made.text);
        const view = made.body as { source: string; createdBy: string; remote: { username: string; password: boolean }; filters: unknown; remoteprefix: string };
        assert.deepEqual([view.source, view.createdBy, view.remote.username, view.remote.password, view.remoteprefix], ['api', USERS.admin.user, USERS.admin.user, true, 'mirror']);
        assert.deepEqual(view.filters, { repositories: ['alice/*'], tags: ['1'], platforms: null });
        assert.ok(!(await page.content()).includes(USERS.admin.password), 'the remote password in the page');

        await rule.getByRole('button', { name: 'Run now' }).click();
        await visible(rule.getByText('Succeeded', { exact: true }), 30_000);
        await visible(rule.getByText(/^1 copied, 0 skipped, 0 failed, 0 deleted; .+ sent$/));
        assert.equal(await headStatus({ url: seed.url }, 'mirror/alice/app', '1', USERS.admin), 200, 'alice/app:1 pushed to mirror/alice/app');

        // a second tag; the filters changed to take it, the password left empty: kept
        await new AuthClient(seed.url, USERS.alice, 'basic').pushImage('alice/app', '2', { layer: 'the second tag' });
        await rule.getByRole('button', { name: 'Edit rule ui-push' }).click();
        const edit = page.getByRole('form', { name: 'Change replication rule ui-push' });
        await visible(edit);
        assert.equal(await edit.getByLabel('Name', { exact: true }).count(), 0, 'a name does not change');
        const kept = edit.getByLabel('Password', { exact: true });
        assert.equal(await kept.inputValue(), '');
        assert.equal(await kept.getAttribute('placeholder'), 'Kept (leave empty to keep it)');
        assert.equal(await edit.getByLabel('Remote URL').inputValue(), seed.url);
        assert.equal(await edit.getByLabel('Tags', { exact: true }).inputValue(), '1');
        assert.equal(await edit.getByLabel('Schedule (cron, UTC)').inputValue(), '0 4 * * *');
        assert.equal(await edit.getByLabel('Blobs at once').inputValue(), '4');
        assert.deepEqual(await accessibilityProblems(page), []);
        // another username would need the password again: the hint says so, and then the server
        await edit.getByLabel('Username', { exact: true }).fill('someone');
        await visible(edit.getByText(/^The remote URL, the username or insecure changed: give the password again/));
        await edit.getByRole('button', { name: 'Save rule' }).click();
        await visible(edit.getByRole('alert').getByText(/give remote\.password again/));
        await edit.getByLabel('Username', { exact: true }).fill(USERS.admin.user);
        await edit.getByLabel('Tags', { exact: true }).fill('1, 2');
        await edit.getByLabel('Bandwidth limit').fill('50MiB');
        // single-platform images are copied as they are: the filter changes the rule, not this run
        await edit.getByLabel('Platforms (optional)').fill('linux/amd64');
        await edit.getByRole('button', { name: 'Save rule' }).click();
        await gone(edit);
        await visible(rule.getByText('2', { exact: true }));
        await visible(rule.getByText('50MiB', { exact: true }));
        await visible(rule.getByText('linux/amd64', { exact: true }));
        const changed = await seed.call('GET', '/api/v1/replication/ui-push', { as: USERS.admin });
        const after = changed.body as { filters: unknown; remote: { password: boolean }; bandwidth: number; updated: string; created: string };
        assert.deepEqual(after.filters, { repositories: ['alice/*'], tags: ['1', '2'], platforms: ['linux/amd64'] });
        assert.equal(after.remote.password, true, 'the password kept');
        assert.equal(after.bandwidth, 50 * 2 ** 20);
        await rule.getByRole('button', { name: 'Run now' }).click();
        await visible(rule.getByText(/^1 copied, 1 skipped, 0 failed, 0 deleted; .+ sent$/), 30_000);
        await visible(rule.getByText('Succeeded', { exact: true }));
        assert.equal(await headStatus({ url: seed.url }, 'mirror/alice/app', '2', USERS.admin), 200, 'alice/app:2 pushed with the kept password');
        await rule.getByRole('button', { name: 'Edit rule ui-push' }).click();
        const again = page.getByRole('form', { name: 'Change replication rule ui-push' });
        assert.equal(await again.getByLabel('Bandwidth limit').inputValue(), '50MiB');
        assert.equal(await again.getByLabel('Platforms (optional)').inputValue(), 'linux/amd64');
        assert.equal(await again.getByLabel('Tags', { exact: true }).inputValue(), '1\n2');
        await page.getByRole('button', { name: 'Cancel' }).click();

        // deleted with its runs, after a confirmation that says so
        await rule.getByRole('button', { name: 'Delete rule ui-push' }).click();
        const dialog = page.getByRole('dialog', { name: 'Delete replication rule ui-push?' });
        await visible(dialog.getByText(/^Its runs are deleted with it/));
        await dialog.getByRole('button', { name: 'Delete rule' }).click();
        await gone(rule);
        await visible(page.getByText('Replication rule ui-push deleted'));
        await eventually('the focus on the page heading once the rule is gone', () => page.evaluate(() => document.activeElement?.tagName), (tag) => tag === 'H1');
        for (const path of ['/api/v1/replication/ui-push', '/api/v1/replication/ui-push/runs']) {
          assert.equal((await seed.call('GET', path, { as: USERS.admin })).status, 404, path);
        }
        await visible(page.getByRole('region', { name: 'from-upstream' }));

        // the form on a phone: no sideways scrolling
        await page.setViewportSize(PHONE.viewport);
        await page.getByRole('button', { name: 'Add rule' }).click();
        await visible(page.getByRole('form', { name: 'New replication rule' }));
        const width = await scrollWidth(page);
        assert.ok(width <= PHONE.viewport.width + 1, `the form scrolls sideways on a phone: scrollWidth ${width}`);
        assertClean([failedResource(400)]);
      },
      { signIn: USERS.admin },
    ));
});
