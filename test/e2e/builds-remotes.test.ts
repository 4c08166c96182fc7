/**
 * Automated builds from the remotes and Git hosts builds.test.ts does not reach: a private
 * repository over SSH behind a real sshd, fetched with the rule's deploy key (and refused with
 * another key), and the push webhooks of GitLab, Gitea, Forgejo and Bitbucket Cloud and Server
 * delivered as those hosts send them, each building the commit it names and pushing it into berth.
 * One berth serves every test; its images are read back from the registry and unpacked.
 */
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { requireTools, run, runOk, tempDir } from '../helpers/process.ts';
import { sshCommand } from '../../src/builds/git.ts';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';
import { commit, git, repoWith } from '../helpers/git-repos.ts';
import { API, api, finished, type BuildView } from '../helpers/builds.ts';
import { makeKeyPair, startSshGit, type KeyPair, type SshGitServer } from '../helpers/sshd.ts';

const tools = requireTools('buildah', 'git', 'tar');
const sshTools = requireTools('sshd', 'ssh', 'ssh-keygen', 'git-shell');

interface RuleAnswer {
  id: string;
  hookUrl: string;
  hookSecret: string;
  credential: string | null;
}

/** What a webhook delivery is answered. */
interface HookAnswer {
  provider: string;
  ignored?: string;
  builds: { id: number; ref: string; tag: string; status: string }[];
}

async function json<T>(res: Response, status: number): Promise<{ value: T; text: string }> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return { value: JSON.parse(text) as T, text };
}

/** An image as pushed: its manifest and config as text, and its layers as uncompressed tar streams. */
async function image(reg: TestRegistry, repo: string, tag: string): Promise<{ manifest: string; config: string; layers: Buffer[] }> {
  const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';
  const manifest = await (await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, { headers: { accept } })).text();
  const parsed = JSON.parse(manifest) as { config: { digest: string }; layers: { digest: string }[] };
  const blob = async (digest: string) => Buffer.from(await (await fetch(`${reg.url}/v2/${repo}/blobs/${digest}`)).arrayBuffer());
  const config = (await blob(parsed.config.digest)).toString();
  const layers: Buffer[] = [];
  for (const layer of parsed.layers) {
    const bytes = await blob(layer.digest);
    layers.push(bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes);
  }
  return { manifest, config, layers };
}

/** The files of an image's top layer, unpacked into `into`; returns their paths, sorted. */
async function unpackTop(layers: Buffer[], into: string): Promise<string[]> {
  const top = layers.at(-1);
  assert.ok(top);
  await fs.mkdir(into, { recursive: true });
  await fs.writeFile(path.join(into, '..', `${path.basename(into)}.tar`), top);
  await runOk('tar', ['-xf', path.join(into, '..', `${path.basename(into)}.tar`)], { cwd: into });
  const entries = await fs.readdir(into, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(into, path.join(e.parentPath, e.name))).sort();
}

/** The lines of a private key that are its own (the first base64 line is the same for every ed25519 key without a passphrase). */
function keyLines(key: KeyPair): string[] {
  return key.privateKey.split('\n').filter((l) => /^[A-Za-z0-9+/=]{20,}$/.test(l)).slice(1);
}

function assertNoKey(where: string, text: string | Buffer, key: KeyPair): void {
  const lines = keyLines(key);
  assert.ok(lines.length >= 2);
  for (const line of lines) assert.ok(!text.includes(line), `${where} holds a line of the deploy key`);
}

describe('automated builds from other remotes and Git hosts', { skip: tools.skip }, () => {
  let work: string;
  let reg: TestRegistry;

  before(async () => {
    tools.check();
    work = await tempDir('builds-remotes');
    reg = await startTestRegistry({
      config: { builds: { enabled: true, workdir: path.join(work, 'builds'), timeout: '60s', concurrency: 1, pollinterval: '1h' } },
    });
  });

  after(async () => {
    await reg?.stop();
    if (work !== undefined) await fs.rm(work, { recursive: true, force: true });
  });

  const leftovers = async () => (await fs.readdir(path.join(work, 'builds')).catch(() => [])).filter((n) => !n.startsWith('ls-'));

  describe('a private remote over SSH with a deploy key', { skip: sshTools.skip }, () => {
    let sshd: SshGitServer;
    let head: string;

    before(async () => {
      sshTools.check();
      const src = path.join(work, 'ssh-src');
      head = await repoWith(src, { Dockerfile: 'FROM scratch\nCOPY . /ctx/\n', 'hello.txt': 'over ssh\n' });
      await git(src, 'tag', 'v1.0');
      await runOk('git', ['clone', '-q', '--bare', src, path.join(work, 'ssh-repos', 'app.git')]);
      sshd = await startSshGit(path.join(work, 'ssh-repos'), path.join(work, 'sshd'));
    });

    after(async () => {
      await sshd?.stop();
    });

    it('builds with the deploy key, which is in no answer, log, image or file left behind', async () => {
      const { key } = sshd;
      const made = await json<RuleAnswer>(
        await api(reg, 'POST', `${API('alice/ssh')}/_builds/rules`, { gitUrl: sshd.url('app.git'), source: 'main', credential: { kind: 'ssh', secret: key.privateKey } }),
        201,
      );
      assert.equal(made.value.credential, 'ssh');
      assertNoKey('the answer to the new rule', made.text, key);
      const [queued] = (await json<BuildView[]>(await api(reg, 'POST', `${API('alice/ssh')}/_builds`, {}), 202)).value;
      assert.ok(queued);
      const { build, log } = await finished(reg, 'alice/ssh', queued.id);
      assert.equal(build.status, 'succeeded', `${log}\n--- sshd ---\n${sshd.log()}`);
      assert.equal(build.commit, head);
      // sshd let in the deploy key itself (not a key of the account berth runs as)
      const fingerprint = (await runOk('ssh-keygen', ['-lf', '-'], { input: key.publicKey })).stdout.split(' ')[1];
      assert.match(sshd.log(), new RegExp(`Accepted publickey for ${sshd.user} from 127\\.0\\.0\\.1 port \\d+ ssh2: ED25519 ${fingerprint?.replace(/[+/]/g, '\\$&')}`));
      // git.ts accepts a host key it has never seen (StrictHostKeyChecking=accept-new) and keeps none (UserKnownHostsFile=/dev/null)
      assert.match(log, new RegExp(`Permanently added '\\[127\\.0\\.0\\.1\\]:${sshd.port}'`));
      const knownHosts = await fs.readFile(path.join(os.userInfo().homedir, '.ssh', 'known_hosts'), 'utf8').catch(() => '');
      assert.ok(!knownHosts.includes(`[127.0.0.1]:${sshd.port}`), 'the host key is not written to the known hosts of the account berth runs as');

      assertNoKey('the build log', log, key);
      assertNoKey('the rules', await (await api(reg, 'GET', `${API('alice/ssh')}/_builds/rules`)).text(), key);
      assertNoKey('the builds', await (await api(reg, 'GET', `${API('alice/ssh')}/_builds`)).text(), key);
      assertNoKey('the build', await (await api(reg, 'GET', `${API('alice/ssh')}/_builds/${build.id}`)).text(), key);
      assertNoKey('the stored log', await (await api(reg, 'GET', `${API('alice/ssh')}/_builds/${build.id}/log`)).text(), key);
      const pushed = await image(reg, 'alice/ssh', 'latest');
      assertNoKey('the manifest', pushed.manifest, key);
      assertNoKey('the image config', pushed.config, key);
      for (const layer of pushed.layers) assertNoKey('a layer', layer, key);
      // COPY . takes the whole context, the checkout's .git included: the key was beside it, not in it
      const files = await unpackTop(pushed.layers, path.join(work, 'unpacked-ssh'));
      assert.ok(files.includes('ctx/hello.txt') && files.includes('ctx/Dockerfile'), files.join(' '));
      assert.deepEqual(files.filter((f) => !f.startsWith('ctx/.git/') && f !== 'ctx/hello.txt' && f !== 'ctx/Dockerfile'), []);
      assert.equal(await fs.readFile(path.join(work, 'unpacked-ssh', 'ctx', 'hello.txt'), 'utf8'), 'over ssh\n');
      assert.deepEqual(await leftovers(), [], 'the work directory, deploy key included, is removed');
    });

    it('lists the remote with the deploy key to build the tags a regular expression rule matches', async () => {
      const rule = (await json<RuleAnswer>(
        await api(reg, 'POST', `${API('alice/ssh')}/_builds/rules`, { gitUrl: sshd.url('app.git'), sourceType: 'tag', source: '/^v([0-9.]+)$/', tag: '{1}', credential: { kind: 'ssh', secret: sshd.key.privateKey } }),
        201,
      )).value;
      // no ref: berth runs git ls-remote over SSH with the key to find the tags the rule matches
      const queued = (await json<BuildView[]>(await api(reg, 'POST', `${API('alice/ssh')}/_builds`, { rule: rule.id }), 202)).value;
      assert.deepEqual(queued.map((b) => [b.ref, b.tag]), [['v1.0', '1.0']]);
      const { build, log } = await finished(reg, 'alice/ssh', queued[0]?.id ?? 0);
      assert.equal(build.status, 'succeeded', log);
      assert.equal(build.commit, head);
    });

    it("offers the remote the rule's deploy key alone: never a key or the ssh config of the account berth runs as", async () => {
      const dir = path.join(work, 'ssh probe');
      await fs.mkdir(dir, { recursive: true });
      const keyFile = path.join(dir, "deploy 'key'");
      await fs.writeFile(keyFile, sshd.key.privateKey, { mode: 0o600 });
      const probe = async (command: string) =>
        run('sh', ['-c', `${command} -v -p ${sshd.port} ${sshd.user}@127.0.0.1 true`], { env: { PATH: process.env['PATH'] ?? '', HOME: dir } });
      const own = os.userInfo().homedir;
      // without a credential: no identity at all (ssh would otherwise try the account's ~/.ssh/id_*, found by its passwd entry, not HOME)
      const none = await probe(sshCommand());
      assert.match(none.stderr, /Permission denied \(publickey\)/);
      assert.match(none.stderr, /Reading configuration data \/dev\/null/);
      assert.ok(!none.stderr.includes(`${own}/.ssh`) && !/identity file|Will attempt key|Trying private key/.test(none.stderr), none.stderr);
      // with the deploy key (its path has a space and a quote): that key alone, and it gets in
      const withKey = await probe(sshCommand(keyFile));
      assert.match(withKey.stderr, /Authenticated to 127\.0\.0\.1 .* using "publickey"/, withKey.stderr);
      const attempted = withKey.stderr.split('\n').filter((l) => /Will attempt key/.test(l));
      assert.equal(attempted.length, 1, attempted.join('\n'));
      assert.ok(attempted[0]?.includes(keyFile) && !withKey.stderr.includes(`${own}/.ssh`), withKey.stderr);
    });

    it('fails with a clear log when the remote does not let the key in, and shows that key nowhere', async () => {
      const wrong = await makeKeyPair(path.join(work, 'sshd'), 'not-authorized');
      const made = await json<RuleAnswer>(
        await api(reg, 'POST', `${API('alice/ssh-denied')}/_builds/rules`, { gitUrl: sshd.url('app.git'), source: 'main', credential: { kind: 'ssh', secret: wrong.privateKey } }),
        201,
      );
      assertNoKey('the answer to the new rule', made.text, wrong);
      const [queued] = (await json<BuildView[]>(await api(reg, 'POST', `${API('alice/ssh-denied')}/_builds`, {}), 202)).value;
      const { build, log } = await finished(reg, 'alice/ssh-denied', queued?.id ?? 0);
      assert.equal(build.status, 'failed', log);
      // the reason, not only git's closing hint, is the build's error
      assert.match(build.error ?? '', /^git fetch failed: .*Permission denied \(publickey\)/);
      assert.match(log, /Permission denied \(publickey\)/);
      assertNoKey('the build log', log, wrong);
      assertNoKey('the build', JSON.stringify(build), wrong);
      assertNoKey('the rules', await (await api(reg, 'GET', `${API('alice/ssh-denied')}/_builds/rules`)).text(), wrong);
      assert.equal((await api(reg, 'HEAD', '/v2/alice/ssh-denied/manifests/latest')).status, 404);
      assert.deepEqual(await leftovers(), []);
    });
  });

  describe('push webhooks of GitLab, Gitea, Forgejo and Bitbucket', () => {
    let dir: string;
    let gitUrl: string;

    before(async () => {
      dir = path.join(work, 'hooked');
      await repoWith(dir, { Dockerfile: 'FROM scratch\nCOPY f.txt /f.txt\n', 'f.txt': 'first\n' });
      gitUrl = `file://${dir}`;
    });

    const hmac = (secret: string, body: Buffer) => createHmac('sha256', secret).update(body).digest('hex');

    /** Add a branch rule for `main` to `repo`; returns it (its hook URL and secret are what the Git host is given). */
    async function branchRule(repo: string): Promise<RuleAnswer> {
      return (await json<RuleAnswer>(await api(reg, 'POST', `${API(repo)}/_builds/rules`, { gitUrl, source: 'main', tag: 'latest' }), 201)).value;
    }

    async function deliver(rule: RuleAnswer, headers: Record<string, string>, body: Buffer): Promise<Response> {
      return fetch(reg.url + new URL(rule.hookUrl, reg.url).pathname, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body.toString() });
    }

    const push = (before: string, after: string) => ({ ref: 'refs/heads/main', before, after, message: 'pushed\n' });
    type Push = ReturnType<typeof push>;
    const person = { name: 'dev', email: 'dev@example.com', username: 'alice' };
    const gitlabBody = (kind: 'push' | 'tag_push', p: Push & { checkout: string }) => ({
      object_kind: kind, event_name: kind, before: p.before, after: p.after, ref: p.ref, ref_protected: true, checkout_sha: p.checkout, message: kind === 'tag_push' ? 'release' : null,
      user_id: 4, user_name: 'Alice', user_username: 'alice', project_id: 15,
      project: { id: 15, name: 'app', path_with_namespace: 'alice/app', default_branch: 'main', git_http_url: 'https://gitlab.example.com/alice/app.git', git_ssh_url: 'git@gitlab.example.com:alice/app.git', visibility_level: 0 },
      commits: kind === 'push' ? [{ id: p.after, message: p.message, title: p.message.trim(), timestamp: '2026-12-03T16:00:00+00:00', author: person, added: [], modified: ['f.txt'], removed: [] }] : [],
      total_commits_count: kind === 'push' ? 1 : 0, push_options: {},
      repository: { name: 'app', url: 'git@gitlab.example.com:alice/app.git', homepage: 'https://gitlab.example.com/alice/app', git_http_url: 'https://gitlab.example.com/alice/app.git', git_ssh_url: 'git@gitlab.example.com:alice/app.git', visibility_level: 0 },
    });
    const giteaBody = (p: Push) => {
      const c = { id: p.after, message: p.message, url: `https://git.example.com/alice/app/commit/${p.after}`, author: person, committer: person, verification: null, timestamp: '2026-12-03T16:00:00Z', added: [], removed: [], modified: ['f.txt'] };
      const owner = { id: 1, login: 'alice', username: 'alice', full_name: 'Alice' };
      return {
        ref: p.ref, before: p.before, after: p.after, compare_url: `https://git.example.com/alice/app/compare/${p.before}...${p.after}`, commits: [c], total_commits: 1, head_commit: c,
        repository: { id: 7, owner, name: 'app', full_name: 'alice/app', private: true, html_url: 'https://git.example.com/alice/app', clone_url: 'https://git.example.com/alice/app.git', ssh_url: 'git@git.example.com:alice/app.git', default_branch: 'main' },
        pusher: owner, sender: owner,
      };
    };
    const actor = { type: 'user', display_name: 'Alice', uuid: '{8f0e3f5c-8e4f-4f6c-9d51-1b1f0e0c2a11}', account_id: '557058:1', nickname: 'alice' };
    const bitbucketCloudBody = (p: Push) => ({
      actor,
      repository: { type: 'repository', full_name: 'alice/app', name: 'app', uuid: '{0c2e4b6a-1d3f-4e5a-8b7c-9d0e1f2a3b4c}', is_private: true, scm: 'git' },
      push: {
        changes: [{
          old: { type: 'branch', name: 'main', target: { type: 'commit', hash: p.before } },
          new: { type: 'branch', name: 'main', target: { type: 'commit', hash: p.after, message: p.message, date: '2026-12-03T16:00:00+00:00', author: { type: 'author', raw: 'dev <dev@example.com>' } } },
          created: false, closed: false, forced: false, truncated: false,
          commits: [{ type: 'commit', hash: p.after, message: p.message }],
        }],
      },
    });
    const bitbucketServerBody = (p: Push) => ({
      eventKey: 'repo:refs_changed', date: '2026-12-03T16:00:00+0000',
      actor: { name: 'alice', emailAddress: 'alice@example.com', id: 1, displayName: 'Alice', active: true, slug: 'alice', type: 'NORMAL' },
      repository: { slug: 'app', id: 1, name: 'app', scmId: 'git', state: 'AVAILABLE', forkable: true, public: false, project: { key: 'ALICE', id: 1, name: 'Alice', public: false, type: 'NORMAL' } },
      changes: [{ ref: { id: p.ref, displayId: 'main', type: 'BRANCH' }, refId: p.ref, fromHash: p.before, toHash: p.after, type: 'UPDATE' }],
    });

    /** How each host sends a push of `main`: its headers (signed or with its token) and body. */
    const hosts: { host: string; repo: string; provider: string; delivery(secret: string, p: Push): { headers: Record<string, string>; body: Buffer } }[] = [
      {
        host: 'GitLab (Push Hook, X-Gitlab-Token)',
        repo: 'alice/gitlab',
        provider: 'gitlab',
        delivery: (secret, p) => ({
          headers: { 'user-agent': 'GitLab/17.6.0', 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': secret, 'x-gitlab-instance': 'https://gitlab.example.com', 'x-gitlab-event-uuid': randomUUID() },
          body: Buffer.from(JSON.stringify(gitlabBody('push', { ...p, checkout: p.after }))),
        }),
      },
      {
        host: 'Gitea (X-Gitea-Signature)',
        repo: 'alice/gitea',
        provider: 'gitea',
        delivery: (secret, p) => {
          const body = Buffer.from(JSON.stringify(giteaBody(p), null, 2));
          return { headers: { 'user-agent': 'Go-http-client/1.1', 'x-gitea-delivery': randomUUID(), 'x-gitea-event': 'push', 'x-gitea-event-type': 'push', 'x-gitea-signature': hmac(secret, body) }, body };
        },
      },
      {
        host: 'Forgejo (X-Forgejo-Signature)',
        repo: 'alice/forgejo',
        provider: 'gitea',
        delivery: (secret, p) => {
          const body = Buffer.from(JSON.stringify(giteaBody(p), null, 2));
          return { headers: { 'user-agent': 'Go-http-client/1.1', 'x-forgejo-delivery': randomUUID(), 'x-forgejo-event': 'push', 'x-forgejo-event-type': 'push', 'x-forgejo-signature': hmac(secret, body) }, body };
        },
      },
      {
        host: 'Bitbucket Cloud (repo:push, X-Hub-Signature)',
        repo: 'alice/bitbucket-cloud',
        provider: 'bitbucket',
        delivery: (secret, p) => {
          const body = Buffer.from(JSON.stringify(bitbucketCloudBody(p)));
          const headers = { 'user-agent': 'Bitbucket-Webhooks/2.0', 'x-event-key': 'repo:push', 'x-hook-uuid': randomUUID(), 'x-request-uuid': randomUUID(), 'x-attempt-number': '1', 'x-hub-signature': `sha256=${hmac(secret, body)}` };
          return { headers, body };
        },
      },
      {
        host: 'Bitbucket Server (repo:refs_changed, X-Hub-Signature)',
        repo: 'alice/bitbucket-server',
        provider: 'bitbucket',
        delivery: (secret, p) => {
          const body = Buffer.from(JSON.stringify(bitbucketServerBody(p)));
          return { headers: { 'user-agent': 'Atlassian HttpClient 4.0', 'x-event-key': 'repo:refs_changed', 'x-request-id': randomUUID(), 'x-hub-signature': `sha256=${hmac(secret, body)}` }, body };
        },
      },
    ];

    for (const { host, repo, provider, delivery } of hosts) {
      it(`${host}: a wrong secret gets 401 and builds nothing; a true delivery builds the commit it names`, async () => {
        const rule = await branchRule(repo);
        const previous = await git(dir, 'rev-parse', 'HEAD');
        const head = await commit(dir, { 'f.txt': `pushed for ${repo}\n` }, `for ${repo}`);
        const forged = delivery('a-guessed-secret', push(previous, head));
        const refused = await deliver(rule, forged.headers, forged.body);
        assert.equal(refused.status, 401, await refused.text());
        assert.deepEqual((await json<BuildView[]>(await api(reg, 'GET', `${API(repo)}/_builds`), 200)).value, [], 'a forged delivery builds nothing');
        const real = delivery(rule.hookSecret, push(previous, head));
        const { value } = await json<HookAnswer>(await deliver(rule, real.headers, real.body), 202);
        assert.equal(value.provider, provider);
        assert.deepEqual(value.builds.map((b) => [b.ref, b.tag, b.status]), [['main', 'latest', 'queued']]);
        const { build, log } = await finished(reg, repo, value.builds[0]?.id ?? 0);
        assert.equal(build.status, 'succeeded', log);
        assert.equal(build.commit, head);
        const files = await unpackTop((await image(reg, repo, 'latest')).layers, path.join(work, `unpacked-${repo.replace('/', '-')}`));
        assert.deepEqual(files, ['f.txt']);
        assert.equal(await fs.readFile(path.join(work, `unpacked-${repo.replace('/', '-')}`, 'f.txt'), 'utf8'), `pushed for ${repo}\n`);
      });
    }

    it('GitLab (Tag Push Hook): an annotated tag v1.2 is built by the tag rule and pushed as 1.2', async () => {
      const repo = 'alice/gitlab-tags';
      const rule = await branchRule(repo);
      await json(await api(reg, 'POST', `${API(repo)}/_builds/rules`, { gitUrl, sourceType: 'tag', source: '/^v([0-9.]+)$/', tag: '{1}' }), 201);
      const head = await commit(dir, { 'f.txt': 'release 1.2\n' }, 'release 1.2');
      await git(dir, 'tag', '-a', '-m', 'release 1.2', 'v1.2');
      const tagObject = await git(dir, 'rev-parse', 'refs/tags/v1.2');
      assert.notEqual(tagObject, head);
      // GitLab's `after` is the new value of the reference (the tag object); `checkout_sha` is the commit
      const body = Buffer.from(JSON.stringify(gitlabBody('tag_push', { ref: 'refs/tags/v1.2', before: '0'.repeat(40), after: tagObject, checkout: head, message: '' })));
      const headers = { 'user-agent': 'GitLab/17.6.0', 'x-gitlab-event': 'Tag Push Hook', 'x-gitlab-instance': 'https://gitlab.example.com', 'x-gitlab-event-uuid': randomUUID() };
      assert.equal((await deliver(rule, { ...headers, 'x-gitlab-token': 'not-the-token' }, body)).status, 401);
      assert.equal((await deliver(rule, headers, body)).status, 401, 'no token at all');
      assert.deepEqual((await json<BuildView[]>(await api(reg, 'GET', `${API(repo)}/_builds`), 200)).value, []);
      // the project's one webhook (the branch rule's) builds its sibling, the tag rule; the branch rule does not match a tag
      const { value } = await json<HookAnswer>(await deliver(rule, { ...headers, 'x-gitlab-token': rule.hookSecret }, body), 202);
      assert.equal(value.provider, 'gitlab');
      assert.deepEqual(value.builds.map((b) => [b.ref, b.tag]), [['v1.2', '1.2']]);
      const { build, log } = await finished(reg, repo, value.builds[0]?.id ?? 0);
      assert.equal(build.status, 'succeeded', log);
      assert.equal(build.commit, head);
      const manifest = await fetch(`${reg.url}/v2/${repo}/manifests/1.2`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
      assert.equal(manifest.status, 200);
      assert.equal(manifest.headers.get('docker-content-digest'), build.digest);
      assert.equal((await api(reg, 'HEAD', `/v2/${repo}/manifests/latest`)).status, 404, 'the branch rule built nothing');
    });
  });
});
