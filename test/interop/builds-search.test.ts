/**
 * Issue 16's "done when", with access control on: a commit pushed to a Git repository, announced
 * by a signed webhook, built by berth (pushing with a token of the rule's owner made for that
 * build), and `podman search` showing the repository [OK] under AUTOMATED (Docker's CLI has had
 * no AUTOMATED column since version 25; /v1/search's is_automated is what both read).
 * Beside it, the refusals: who may not manage rules, trigger, or read builds.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAuthRegistry, expectAccessControl, type AuthRegistry } from '../helpers/auth.ts';
import { podmanSandbox } from '../helpers/podman.ts';
import { requireTools, runOk, tempDir } from '../helpers/process.ts';
import { SYSTEM } from '../../src/auth/principal.ts';

const tools = requireTools('buildah', 'git');
// Docker's CLI dropped its AUTOMATED column in version 25 (Docker Hub ended automated builds); podman still shows it.
const podmanTools = requireTools('podman');

const ADMIN = { user: 'admin', password: 'admin-password-1' };
const ALICE = { user: 'alice', password: 'alice-password-1' };
const basic = (u: { user: string; password: string }) => `Basic ${Buffer.from(`${u.user}:${u.password}`).toString('base64')}`;

describe('automated builds with access control, and podman search', { skip: tools.skip }, () => {
  let reg: AuthRegistry;
  let work: string;
  const logs = (): string => `--- registry logs ---\n${reg.logs().slice(-6000)}`;
  const api = (method: string, path: string, as?: { user: string; password: string }, body?: unknown) =>
    fetch(reg.url + path, {
      method,
      headers: { ...(as && { authorization: basic(as) }), ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? null : JSON.stringify(body),
    });
  const git = (...args: string[]) => runOk('git', ['-c', 'user.email=dev@example.com', '-c', 'user.name=dev', ...args], { cwd: join(work, 'repo') });

  before(async () => {
    tools.check();
    work = await tempDir('builds-search');
    reg = await startAuthRegistry({ builds: { enabled: true, workdir: join(work, 'builds') } });
    await reg.accounts.createUser(SYSTEM, ADMIN.user, ADMIN.password, true);
    await reg.accounts.createUser(SYSTEM, ALICE.user, ALICE.password);
    await expectAccessControl(reg);
    await runOk('git', ['init', '-q', '-b', 'main', join(work, 'repo')]);
    await writeFile(join(work, 'repo', 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
    await writeFile(join(work, 'repo', 'hello.txt'), 'one\n');
    await git('add', '-A');
    await git('commit', '-q', '-m', 'one');
  });
  after(async () => {
    await reg?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('refuses rules, triggers and reads to whoever may not, and a file:// remote to a non-administrator', async () => {
    const rule = { gitUrl: `file://${join(work, 'repo')}`, source: 'main' };
    assert.equal((await api('GET', '/api/v1/repositories/admin/app/_builds/rules')).status, 401, 'anonymous');
    assert.equal((await api('POST', '/api/v1/repositories/admin/app/_builds/rules', ALICE, rule)).status, 403, "alice in admin's namespace");
    assert.equal((await api('POST', '/api/v1/repositories/admin/app/_builds', ALICE, {})).status, 403);
    const own = await api('POST', '/api/v1/repositories/alice/app/_builds/rules', ALICE, rule);
    assert.equal(own.status, 400, 'file:// is for administrators');
    assert.match(await own.text(), /administrators/);
  });

  it("takes a rule's credential away when another administrator points it elsewhere, and makes the editor its owner", async () => {
    // admin's rule in alice's namespace, with admin's token for a private remote
    const made = await api('POST', '/api/v1/repositories/alice/app/_builds/rules', ADMIN, { gitUrl: 'https://git.example.com/admin/app.git', source: 'main', credential: { kind: 'token', secret: 'admins-token' } });
    assert.equal(made.status, 201);
    const rule = (await made.json()) as { id: string; createdBy: string };
    assert.equal(rule.createdBy, ADMIN.user);
    const path = `/api/v1/repositories/alice/app/_builds/rules/${rule.id}`;
    // alice administers alice/app: she may edit the rule, but not send admin's token to her own host
    const moved = await api('PUT', path, ALICE, { gitUrl: 'http://127.0.0.1:9/evil.git', source: 'main' });
    assert.equal(moved.status, 400);
    assert.match(await moved.text(), /give the credential again/);
    const edited = await api('PUT', path, ALICE, { gitUrl: 'http://127.0.0.1:9/evil.git', source: 'main', credential: null });
    assert.equal(edited.status, 200);
    const now = (await edited.json()) as { createdBy: string; credential: string | null };
    assert.deepEqual([now.createdBy, now.credential], [ALICE.user, null], "builds now push with alice's rights, without admin's token");
    assert.equal((await api('DELETE', path, ALICE)).status, 204);
  });

  it("builds a pushed commit on a signed webhook, pushing as the rule's owner, and /v1/search says it is automated", async () => {
    const made = await api('POST', '/api/v1/repositories/admin/app/_builds/rules', ADMIN, { gitUrl: `file://${join(work, 'repo')}`, source: 'main', tag: 'latest' });
    assert.equal(made.status, 201, await made.clone().text());
    const rule = (await made.json()) as { hookUrl: string; hookSecret: string };
    await writeFile(join(work, 'repo', 'hello.txt'), 'two\n');
    await git('commit', '-q', '-am', 'two');
    const head = (await git('rev-parse', 'HEAD')).stdout.trim();
    const body = JSON.stringify({ ref: 'refs/heads/main', after: head });
    const delivered = await fetch(reg.url + new URL(rule.hookUrl).pathname, {
      method: 'POST',
      headers: { 'x-github-event': 'push', 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', rule.hookSecret).update(body).digest('hex')}` },
      body,
    });
    assert.equal(delivered.status, 202);
    const id = ((await delivered.json()) as { builds: { id: number }[] }).builds[0]?.id;
    assert.ok(id !== undefined);
    // the live log ends when the build does
    const events = await (await fetch(`${reg.url}/api/v1/repositories/admin/app/_builds/${id}/log`, { headers: { accept: 'text/event-stream', authorization: basic(ADMIN) } })).text();
    const status = JSON.parse(/event: status\ndata: (.*)/.exec(events)?.[1] ?? '{}') as { status?: string; commit?: string; digest?: string };
    assert.equal(status.status, 'succeeded', `${events}\n${logs()}`);
    assert.equal(status.commit, head);
    assert.equal((await api('GET', `/api/v1/repositories/admin/app/_builds/${id}`)).status, 401, 'a private repository\'s builds: not for anonymous callers');
    const tokens = await reg.running.access.store.listTokens(ADMIN.user);
    assert.deepEqual(tokens.filter((t) => t.name.startsWith('build ')), [], "the build's token is revoked when it ends");
    await reg.accounts.setVisibility(SYSTEM, 'admin/app', 'public');
    const search = (await (await fetch(`${reg.url}/v1/search?q=app`)).json()) as { results: { name: string; is_automated: boolean }[] };
    assert.deepEqual(search.results, [{ ...search.results[0], name: 'admin/app', is_automated: true }]);
  });

  it('shows the repository [OK] under AUTOMATED in podman search', { skip: podmanTools.skip }, async () => {
    podmanTools.check();
    // podman refuses a runroot path longer than 50 characters: a short directory of its own
    const dir = await tempDir('pm');
    try {
      const sandbox = await podmanSandbox(dir, reg.host);
      const found = await runOk('podman', [...sandbox.globals, 'search', '--tls-verify=false', '--no-trunc', '--format', '{{.Name}}|{{.Automated}}', `${reg.host}/app`], { env: sandbox.env, context: logs, timeout: 120_000 });
      assert.equal(found.stdout.trim(), `${reg.host}/admin/app|[OK]`, logs());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
