/**
 * Automated builds in headless Chromium: admin, on admin/app's Builds tab, sees the build a seed
 * made, its log, starts another with "Build now" and follows it live until it succeeds, and adds a
 * tag rule, whose webhook secret is shown once. bob, who may only pull, sees the builds and their
 * logs but neither the rules nor the buttons. (buildah and git are needed besides Chromium.)
 */
import assert from 'node:assert/strict';
import { writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { SYSTEM } from '../../src/auth/principal.ts';
import { api } from '../helpers/api.ts';
import { expectAccessControl, startAuthRegistry, type AuthRegistry } from '../helpers/auth.ts';
import { screenshot, visible } from '../helpers/browser.ts';
import { requireTools, runOk, tempDir } from '../helpers/process.ts';
import { accessibilityProblems } from '../helpers/ui-checks.ts';
import { USERS } from '../helpers/ui-seed.ts';
import { uiSuiteOn } from '../helpers/ui-suite.ts';

const tools = requireTools('buildah', 'git');

interface BuildsSeed {
  reg: AuthRegistry;
  url: string;
  stop(): Promise<void>;
}

async function seedBuilds(): Promise<BuildsSeed> {
  tools.check();
  const work = await tempDir('ui-builds');
  const reg = await startAuthRegistry({ builds: { enabled: true, workdir: join(work, 'builds') } });
  const stop = async () => {
    await reg.stop();
    await rm(work, { recursive: true, force: true });
  };
  try {
    await reg.accounts.createUser(SYSTEM, USERS.admin.user, USERS.admin.password, true);
    await expectAccessControl(reg);
    await reg.accounts.createUser(SYSTEM, USERS.bob.user, USERS.bob.password);
    const repo = join(work, 'repo');
    await runOk('git', ['init', '-q', '-b', 'main', repo]);
    await writeFile(join(repo, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
    await writeFile(join(repo, 'hello.txt'), 'hello\n');
    await runOk('git', ['-c', 'user.email=a@example.com', '-c', 'user.name=a', 'add', '-A'], { cwd: repo });
    await runOk('git', ['-c', 'user.email=a@example.com', '-c', 'user.name=a', 'commit', '-q', '-m', 'one'], { cwd: repo });
    const call = api(reg.url);
    const rule = await call('POST', '/api/v1/repositories/admin/app/_builds/rules', { as: USERS.admin, body: { gitUrl: `file://${repo}`, source: 'main' } });
    assert.equal(rule.status, 201);
    const queued = await call('POST', '/api/v1/repositories/admin/app/_builds', { as: USERS.admin, body: {} });
    const id = (queued.body as { id: number }[])[0]?.id;
    const basic = `Basic ${Buffer.from(`${USERS.admin.user}:${USERS.admin.password}`).toString('base64')}`;
    const log = await (await fetch(`${reg.url}/api/v1/repositories/admin/app/_builds/${id}/log`, { headers: { accept: 'text/event-stream', authorization: basic } })).text();
    assert.match(log, /"status":"succeeded"/);
    await reg.accounts.setVisibility(SYSTEM, 'admin/app', 'public');
    return { reg, url: reg.url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

uiSuiteOn('web UI: automated builds', seedBuilds, (ui) => {
  const { session } = ui;

  it('shows admin the builds and their logs, builds now with a live log, and adds a rule whose secret is shown once', () =>
    session(
      'builds-admin',
      async ({ page, goto, assertClean }) => {
        await goto('/r/admin/app');
        await page.getByRole('link', { name: 'Builds' }).click();
        const builds = page.getByRole('region', { name: 'Builds' });
        await visible(builds.getByText('#1'));
        await visible(builds.getByText('succeeded'));
        await builds.getByRole('button', { name: 'Show the log of build 1' }).click();
        await visible(page.getByLabel('Log of build 1').getByText(/# pushed 127\.0\.0\.1:\d+\/admin\/app:latest@sha256:/));
        await builds.getByRole('button', { name: 'Hide the log of build 1' }).click();

        await builds.getByRole('button', { name: 'Build now' }).click();
        await visible(builds.getByText('#2'));
        await builds.getByRole('button', { name: 'Show the log of build 2' }).click();
        await visible(page.getByLabel('Log of build 2').getByText(/# pushed 127\.0\.0\.1/), 60_000);
        await visible(builds.getByRole('row').filter({ hasText: '#2' }).getByText('succeeded'));
        assert.deepEqual(await accessibilityProblems(page), []);
        await screenshot(page, 'repo-builds', { fullPage: true });

        const rules = page.getByRole('region', { name: 'Build rules' });
        await rules.getByLabel('Git repository URL').fill('https://git.example.com/admin/app.git');
        await rules.getByLabel('Build').selectOption('tag');
        await rules.getByLabel('Source').fill('/^v([0-9.]+)$/');
        await rules.getByLabel('Image tag').fill('{1}');
        await rules.getByRole('button', { name: 'Add rule' }).click();
        await visible(rules.getByText(/The secret is shown only now/));
        await visible(rules.getByRole('cell', { name: /tag \/\^v\(\[0-9\.\]\+\)\$\// }));
        assertClean();
      },
      { signIn: USERS.admin },
    ));

  it('shows bob, who may pull, the builds but not the rules or the buttons', () =>
    session(
      'builds-bob',
      async ({ page, goto, assertClean }) => {
        await goto('/r/admin/app/builds');
        await visible(page.getByRole('region', { name: 'Builds' }).getByText('#1'));
        assert.equal(await page.getByRole('button', { name: 'Build now' }).count(), 0);
        assert.equal(await page.getByRole('region', { name: 'Build rules' }).count(), 0);
        assertClean();
      },
      { signIn: USERS.bob },
    ));
});
