/**
 * `docker search` (through a dockerd of its own) and `podman search` against berth: the v1 search
 * endpoint's JSON as real clients read it, with their filters and limits, before and after a login
 * (docker then trades its identity token for a bearer token with `registry:catalog:search`;
 * podman never authenticates to /v1/search, only to the catalog it lists for an empty term), and
 * private repositories shown only to who may pull them.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAuthRegistry, expectAccessControl, type AuthRegistry } from '../helpers/auth.ts';
import { AuthClient } from '../helpers/auth-client.ts';
import { dockerdWarnings, startDockerd, stopDockerd, type Daemon } from '../helpers/dockerd.ts';
import { podmanSandbox, type PodmanSandbox } from '../helpers/podman.ts';
import { requireTools, run, runOk, tempDir, type RunResult } from '../helpers/process.ts';
import { SYSTEM } from '../../src/auth/principal.ts';

const dockerTools = requireTools('dockerd', 'docker');
const podmanTools = requireTools('podman');

const ADMIN = { user: 'admin', password: 'admin-password-1' };
const ALICE = { user: 'alice', password: 'alice-password-1' };

/** Repositories, their visibility and stars (given by that many users). */
const REPOS: [string, 'public' | 'private', number, string][] = [
  ['library/ubuntu', 'public', 3, 'Ubuntu is a Debian-based Linux operating system'],
  ['alice/ubuntu-tools', 'public', 1, 'Tools on Ubuntu'],
  ['bob/ubuntu-dev', 'public', 0, ''],
  ['alice/secret-ubuntu', 'private', 0, 'Private build'],
  ['library/busybox', 'public', 0, 'tiny'],
];

/** Rows of `--format '{{.Name}}|{{.StarCount}}|{{.IsOfficial}}'`-style output. */
function rows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.split('|').map((c) => c.trim()));
}

async function seed(reg: AuthRegistry): Promise<void> {
  await reg.accounts.createUser(SYSTEM, ADMIN.user, ADMIN.password, true);
  await reg.accounts.createUser(SYSTEM, ALICE.user, ALICE.password);
  await expectAccessControl(reg);
  const admin = new AuthClient(reg.url, ADMIN);
  const { index } = reg.running.search;
  for (const [name, visibility, stars, description] of REPOS) {
    await admin.pushImage(name, 'latest');
    await reg.accounts.setVisibility(SYSTEM, name, visibility);
    for (let i = 0; i < stars; i++) await index.star(name, `fan${i}`, true);
    if (description !== '') await index.describe(name, { description });
  }
}

describe('docker search', { skip: dockerTools.skip }, () => {
  let reg: AuthRegistry;
  let work: string;
  let daemon: Daemon | undefined;
  const logs = (): string => `--- registry logs ---\n${reg.logs().slice(-6000)}\n--- dockerd warnings ---\n${dockerdWarnings(work)}`;
  const docker = (...args: string[]): Promise<RunResult> => runOk('docker', args, { env: daemon?.env ?? {}, context: logs, timeout: 120_000 });
  const search = async (...args: string[]): Promise<string[][]> =>
    rows((await docker('search', '--no-trunc', '--format', '{{.Name}}|{{.StarCount}}|{{.IsOfficial}}|{{.Description}}', ...args)).stdout);
  const shortNames = (r: string[][]): string[] => r.map((row) => (row[0] ?? '').replace(`${reg.host}/`, ''));

  before(async () => {
    dockerTools.check();
    reg = await startAuthRegistry();
    await seed(reg);
    work = await tempDir('search-docker');
    daemon = await startDockerd(work, reg.host);
  });
  after(async () => {
    if (daemon !== undefined) await stopDockerd(daemon, work);
    await reg?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('lists public repositories, ranked, with stars, official flag and description', async () => {
    const found = await search(`${reg.host}/ubuntu`);
    assert.deepEqual(shortNames(found), ['library/ubuntu', 'alice/ubuntu-tools', 'bob/ubuntu-dev'], logs());
    assert.deepEqual(found[0]?.slice(1), ['3', '[OK]', 'Ubuntu is a Debian-based Linux operating system']);
    assert.equal(found[1]?.[1], '1');
    assert.equal(found[1]?.[2], '');
  });

  it('applies --filter stars=N, --filter is-official=true and --limit', async () => {
    assert.deepEqual(shortNames(await search('--filter', 'stars=1', `${reg.host}/ubuntu`)), ['library/ubuntu', 'alice/ubuntu-tools']);
    assert.deepEqual(shortNames(await search('--filter', 'is-official=true', `${reg.host}/ubuntu`)), ['library/ubuntu']);
    assert.deepEqual(shortNames(await search('--filter', 'stars=3', '--filter', 'is-official=true', `${reg.host}/ubuntu`)), ['library/ubuntu']);
    assert.deepEqual(shortNames(await search('--limit', '2', `${reg.host}/ubuntu`)), ['library/ubuntu', 'alice/ubuntu-tools']);
  });

  it('shows private repositories after docker login (identity token, bearer with registry:catalog:search)', async () => {
    assert.deepEqual(shortNames(await search(`${reg.host}/secret`)), []);
    const login = await run('docker', ['login', '--username', ALICE.user, '--password-stdin', reg.host], { env: daemon?.env ?? {}, input: `${ALICE.password}\n`, timeout: 60_000 });
    assert.equal(login.code, 0, `${login.stderr}\n${logs()}`);
    assert.deepEqual(shortNames(await search(`${reg.host}/secret`)), ['alice/secret-ubuntu'], logs());
    assert.match(reg.logs(), /"route":"v1-search"/);
    await docker('logout', reg.host);
    assert.deepEqual(shortNames(await search(`${reg.host}/secret`)), []);
  });
});

describe('podman search', { skip: podmanTools.skip }, () => {
  let reg: AuthRegistry;
  let work: string;
  let sandbox: PodmanSandbox;
  const logs = (): string => `--- registry logs ---\n${reg.logs().slice(-6000)}`;
  const podman = (...args: string[]): Promise<RunResult> => runOk('podman', [...sandbox.globals, ...args], { env: sandbox.env, context: logs, timeout: 120_000 });
  const search = async (...args: string[]): Promise<string[][]> =>
    rows((await podman('search', '--tls-verify=false', '--no-trunc', '--format', '{{.Name}}|{{.Stars}}|{{.Official}}|{{.Description}}', ...args)).stdout);
  const shortNames = (r: string[][]): string[] => r.map((row) => (row[0] ?? '').replace(`${reg.host}/`, ''));

  before(async () => {
    podmanTools.check();
    reg = await startAuthRegistry();
    await seed(reg);
    work = await tempDir('search-podman');
    sandbox = await podmanSandbox(join(work), reg.host);
  });
  after(async () => {
    await reg?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('lists public repositories, ranked, with stars, official flag and description', async () => {
    const found = await search(`${reg.host}/ubuntu`);
    assert.deepEqual(shortNames(found), ['library/ubuntu', 'alice/ubuntu-tools', 'bob/ubuntu-dev'], logs());
    assert.deepEqual(found[0]?.slice(1), ['3', '[OK]', 'Ubuntu is a Debian-based Linux operating system']);
  });

  it('applies --filter and --limit', async () => {
    assert.deepEqual(shortNames(await search('--filter', 'stars=1', `${reg.host}/ubuntu`)), ['library/ubuntu', 'alice/ubuntu-tools']);
    assert.deepEqual(shortNames(await search('--filter', 'is-official=true', `${reg.host}/ubuntu`)), ['library/ubuntu']);
    assert.deepEqual(shortNames(await search('--limit', '1', `${reg.host}/ubuntu`)), ['library/ubuntu']);
  });

  // containers/image sends no credentials to /v1/search (only its v2 requests authenticate), so a
  // term search by podman is always anonymous; an empty term lists /v2/_catalog, which does log in.
  it('lists the catalog for an empty term; after podman login the catalog holds private repositories, term searches stay public', async () => {
    assert.deepEqual(shortNames(await search(`${reg.host}/`)).sort(), ['alice/ubuntu-tools', 'bob/ubuntu-dev', 'library/busybox', 'library/ubuntu']);
    assert.deepEqual(shortNames(await search(`${reg.host}/secret`)), []);
    await runOk('podman', ['login', '--tls-verify=false', '--username', ALICE.user, '--password-stdin', reg.host], { env: sandbox.env, input: `${ALICE.password}\n`, context: logs });
    assert.ok(shortNames(await search(`${reg.host}/`)).includes('alice/secret-ubuntu'), logs());
    assert.deepEqual(shortNames(await search(`${reg.host}/secret`)), []);
  });
});
