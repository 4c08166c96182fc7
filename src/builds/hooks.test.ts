import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { HookRejectedError, readHook } from './hooks.ts';

const SECRET = 's3cret-for-the-hook';
const SHA = '9fceb02d0ae598e95dc970b74767f19372d61af8';
const sign = (body: Buffer, secret = SECRET): string => createHmac('sha256', secret).update(body).digest('hex');
const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));

// Trimmed from each host's documented push payloads (the fields berth reads, and some it does not).
const github = json({ ref: 'refs/heads/main', before: '0'.repeat(40), after: SHA, created: false, deleted: false, repository: { full_name: 'alice/app', clone_url: 'https://github.com/alice/app.git' }, pusher: { name: 'alice' } });
const gitlabTag = json({ object_kind: 'tag_push', ref: 'refs/tags/v1.2', before: '0'.repeat(40), after: SHA, checkout_sha: SHA, project: { path_with_namespace: 'alice/app' } });
const bitbucket = json({ push: { changes: [{ new: { type: 'branch', name: 'main', target: { type: 'commit', hash: SHA } }, old: { type: 'branch', name: 'main' }, created: false, closed: false }] }, repository: { full_name: 'alice/app' } });

describe('readHook', () => {
  it('reads a GitHub push signed with X-Hub-Signature-256, and refuses a wrong or missing signature', () => {
    const headers = { 'x-github-event': 'push', 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${sign(github)}` };
    assert.deepEqual(readHook(headers, github, SECRET), { kind: 'push', provider: 'github', refs: [{ type: 'branch', name: 'main', commit: SHA }] });
    const bad = { ...headers, 'x-hub-signature-256': `sha256=${sign(github, 'other')}` };
    assert.throws(() => readHook(bad, github, SECRET), (e: unknown) => e instanceof HookRejectedError && e.reason === 'unauthorized');
    assert.throws(() => readHook({ 'x-github-event': 'push' }, github, SECRET), (e: unknown) => e instanceof HookRejectedError && e.reason === 'unauthorized');
    const tampered = Buffer.from(github.toString().replace('main', 'evil'));
    assert.throws(() => readHook(headers, tampered, SECRET), HookRejectedError, 'a body changed after signing');
    assert.deepEqual(readHook({ 'x-github-event': 'ping', 'x-hub-signature-256': `sha256=${sign(json({ zen: 'x' }))}` }, json({ zen: 'x' }), SECRET).kind, 'ignored');
  });

  it('reads a form-encoded GitHub delivery and ignores a deleted branch', () => {
    const form = Buffer.from(new URLSearchParams({ payload: github.toString() }).toString());
    const headers = { 'x-github-event': 'push', 'content-type': 'application/x-www-form-urlencoded', 'x-hub-signature-256': `sha256=${sign(form)}` };
    assert.equal(readHook(headers, form, SECRET).kind, 'push');
    const deleted = json({ ref: 'refs/heads/old', after: '0'.repeat(40), deleted: true });
    assert.equal(readHook({ 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${sign(deleted)}` }, deleted, SECRET).kind, 'ignored');
  });

  it('reads Gitea and Forgejo pushes by their own signature header', () => {
    for (const [event, sig] of [['x-gitea-event', 'x-gitea-signature'], ['x-forgejo-event', 'x-forgejo-signature']] as const) {
      const out = readHook({ [event]: 'push', [sig]: sign(github) }, github, SECRET);
      assert.deepEqual(out, { kind: 'push', provider: 'gitea', refs: [{ type: 'branch', name: 'main', commit: SHA }] });
      assert.throws(() => readHook({ [event]: 'push', [sig]: sign(github, 'x') }, github, SECRET), HookRejectedError);
    }
  });

  it('reads a GitLab tag push by its X-Gitlab-Token', () => {
    const out = readHook({ 'x-gitlab-event': 'Tag Push Hook', 'x-gitlab-token': SECRET }, gitlabTag, SECRET);
    assert.deepEqual(out, { kind: 'push', provider: 'gitlab', refs: [{ type: 'tag', name: 'v1.2', commit: SHA }] });
    assert.throws(() => readHook({ 'x-gitlab-event': 'Tag Push Hook', 'x-gitlab-token': 'wrong' }, gitlabTag, SECRET), HookRejectedError);
    assert.throws(() => readHook({ 'x-gitlab-event': 'Tag Push Hook' }, gitlabTag, SECRET), HookRejectedError);
  });

  it('reads Bitbucket Cloud and Server pushes signed with X-Hub-Signature', () => {
    const cloud = readHook({ 'x-event-key': 'repo:push', 'x-hub-signature': `sha256=${sign(bitbucket)}` }, bitbucket, SECRET);
    assert.deepEqual(cloud, { kind: 'push', provider: 'bitbucket', refs: [{ type: 'branch', name: 'main', commit: SHA }] });
    const server = json({ eventKey: 'repo:refs_changed', changes: [{ ref: { id: 'refs/tags/v2.0', displayId: 'v2.0', type: 'TAG' }, fromHash: '0'.repeat(40), toHash: SHA, type: 'ADD' }] });
    const out = readHook({ 'x-event-key': 'repo:refs_changed', 'x-hub-signature': `sha256=${sign(server)}` }, server, SECRET);
    assert.deepEqual(out, { kind: 'push', provider: 'bitbucket', refs: [{ type: 'tag', name: 'v2.0', commit: SHA }] });
  });

  it("reads a Bitbucket push's names and commits as every other host's, each reference once where it moved last", () => {
    const other = 'b'.repeat(40);
    const change = (name: string, hash: string) => ({ new: { type: 'branch', name, target: { type: 'commit', hash } } });
    const body = json({ push: { changes: [change('main', SHA), change('main', 'refs/pull/7/head'), change('x..y', SHA), change('dev', '--upload-pack=id'), change('main', other), change('dev', SHA)] } });
    const out = readHook({ 'x-event-key': 'repo:push', 'x-hub-signature': `sha256=${sign(body)}` }, body, SECRET);
    assert.deepEqual(out, {
      kind: 'push',
      provider: 'bitbucket',
      refs: [
        { type: 'branch', name: 'main', commit: other },
        { type: 'branch', name: 'dev', commit: SHA },
      ],
    });
  });

  it('refuses what is not a delivery, or not JSON, after the signature', () => {
    assert.throws(() => readHook({}, github, SECRET), (e: unknown) => e instanceof HookRejectedError && e.reason === 'invalid');
    const junk = Buffer.from('not json');
    assert.throws(() => readHook({ 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${sign(junk)}` }, junk, SECRET), (e: unknown) => e instanceof HookRejectedError && e.reason === 'invalid');
  });
});
