/**
 * The OCI Distribution Spec's own conformance suite (v1.1.1, compiled in ../shared/conformance,
 * see its README) against an in-process berth: once open (no users), once with access control on
 * and an administrator's credentials. Every spec that runs must pass (automatic cross-repository
 * mount included); the failing ones are printed. Without the suite the tests skip with the reason,
 * except under CI=true, where they fail. OCI_CONFORMANCE_DIR points elsewhere.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';
import { expectAccessControl } from '../helpers/auth.ts';
import { IN_CI, REPO_ROOT, run, tempDir } from '../helpers/process.ts';
import { SYSTEM } from '../../src/auth/principal.ts';

const DIR = process.env.OCI_CONFORMANCE_DIR ?? join(REPO_ROOT, '..', 'shared', 'conformance');
const RUN = join(DIR, 'run.sh');
/** With automatic cross-mount on, 75 of the suite's 79 specs run (the other four exclude each other or need setup berth does not ask for). */
const OPEN_SPECS = 75;
/**
 * With access control on, the suite pushes with a bearer token: the challenge for a mount names
 * pull on `from` too (as distribution's does), so the token can mount and every spec runs. A
 * mount without `from` is never tried then (it would take the blob from any repository, private
 * ones included, and a token names no source to check): automatic cross-mount is an open
 * registry's only, so this run says so to the suite (OCI_AUTOMATIC_CROSSMOUNT=0: 202 expected).
 */
const ACCESS_CONTROL_SPECS = 75;
const ADMIN = { user: 'conformance', password: 'conformance suite password' };

const missing = existsSync(RUN) ? false : `the OCI conformance suite is not at ${DIR} (set OCI_CONFORMANCE_DIR)`;
if (missing !== false && !IN_CI) console.log(`# skipping: ${missing}`);

/** Runs the suite against `url`; fails with the failing specs and the summary unless every spec that ran passed. */
async function conformance(url: string, specs: number, env: Record<string, string> = {}): Promise<void> {
  const report = await tempDir('oci-conformance');
  try {
    const result = await run(RUN, [url], {
      env: { OCI_AUTOMATIC_CROSSMOUNT: '1', OCI_REPORT_DIR: report, CONFORMANCE_TIMEOUT: '120', ...env },
      timeout: 150_000,
    });
    const output = `${result.stdout}${result.stderr}`;
    assert.equal(result.code, 0, `the conformance suite failed against ${url}:\n${output}`);
    const summary = /(\d+) Passed \| (\d+) Failed/.exec(output);
    assert.ok(summary !== null, `no summary in the suite's output:\n${output}`);
    const [passed, failed] = [Number(summary[1]), Number(summary[2])];
    assert.equal(failed, 0, output);
    assert.ok(passed >= specs, `only ${passed} specs passed (expected ${specs}):\n${output}`);
    console.log(`${url}: ${output.match(/^Ran .*$/m)?.[0] ?? ''} ${summary[0]}`);
  } finally {
    await rm(report, { recursive: true, force: true });
  }
}

describe('OCI Distribution Spec conformance suite', { skip: IN_CI ? false : missing }, () => {
  const started: TestRegistry[] = [];

  before(() => {
    if (missing !== false) throw new Error(`${missing} (required under CI=true)`);
  });
  after(() => Promise.all(started.map((r) => r.stop())));

  async function registry(): Promise<TestRegistry> {
    const reg = await startTestRegistry();
    started.push(reg);
    return reg;
  }

  it('passes against an open registry (no users)', async () => {
    await conformance((await registry()).url, OPEN_SPECS);
  });

  it('passes with access control on, as an administrator', async () => {
    const reg = await registry();
    await reg.running.access.accounts.createUser(SYSTEM, ADMIN.user, ADMIN.password, true);
    await expectAccessControl(reg);
    await conformance(reg.url, ACCESS_CONTROL_SPECS, { OCI_USERNAME: ADMIN.user, OCI_PASSWORD: ADMIN.password, OCI_AUTOMATIC_CROSSMOUNT: '0' });
  });
});
