import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Backend } from '../meta/backend.ts';
import { openSqliteBackend } from '../meta/sqlite/backend.ts';
import type { AccountStore } from './store.ts';
import { AccountService } from './accounts.ts';
import { AccessPolicy } from './policy.ts';
import { SYSTEM } from './principal.ts';
import { csrfMatches, csrfToken, Sessions, SESSION_PREFIX } from './sessions.ts';

describe('Sessions', () => {
  let backend: Backend;
  let store: AccountStore;
  let accounts: AccountService;
  const alice = { kind: 'user', name: 'alice', admin: false, via: 'password' } as const;

  before(async () => {
    backend = openSqliteBackend({ path: ':memory:' });
    store = backend.accounts;
    const policy = new AccessPolicy({ store, defaultVisibility: 'private', maxPrivateRepos: 0, repositoryExists: async () => false, namespaceHasRepositories: async () => false });
    accounts = new AccountService(store, policy);
    await accounts.createUser(SYSTEM, 'alice', 'alice-password-1', false);
  });
  after(() => backend.close());

  it('opens a session for a password login only, and resolves it to the user', async () => {
    const sessions = new Sessions(store, 60_000);
    const s = await sessions.start(alice, 'Chrome on Linux');
    assert.ok(s.secret.startsWith(SESSION_PREFIX));
    assert.deepEqual(await sessions.resolve(s.secret), { kind: 'user', name: 'alice', admin: false, via: 'session' });
    await assert.rejects(sessions.start({ ...alice, via: 'token' }, 'x'), /sign in with a password/);
    await assert.rejects(sessions.start({ ...alice, via: 'htpasswd' }, 'x'), /sign in with a password/);
    assert.equal(await sessions.resolve('berth_pat_nope'), undefined);
    assert.equal(await sessions.resolve(`${SESSION_PREFIX}unknown`), undefined);
  });

  it('ends at sign-out, and records its last use', async () => {
    const sessions = new Sessions(store, 60_000);
    const s = await sessions.start(alice, 'Firefox on macOS');
    await sessions.resolve(s.secret);
    const listed = (await accounts.listTokens(SYSTEM, 'alice')).find((t) => t.name === 'web session (Firefox on macOS)');
    assert.ok(listed?.lastUsedAt !== null);
    await sessions.end(s.secret);
    assert.equal(await sessions.resolve(s.secret), undefined);
  });

  it('expires after its time, is no longer listed, and is forgotten at the next sign-in', async () => {
    const short = new Sessions(store, 1);
    const s = await short.start(alice, 'Old browser');
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(await short.resolve(s.secret), undefined);
    assert.ok(!(await accounts.listTokens(SYSTEM, 'alice')).some((t) => t.name === 'web session (Old browser)'));
    assert.ok((await store.listTokens('alice')).some((t) => t.name === 'web session (Old browser)'));
    await new Sessions(store, 60_000).start(alice, 'New browser');
    assert.ok(!(await store.listTokens('alice')).some((t) => t.name === 'web session (Old browser)'));
  });

  it('ends with a password change', async () => {
    const sessions = new Sessions(store, 60_000);
    const s = await sessions.start(alice, 'Edge on Windows');
    await accounts.setPassword(SYSTEM, 'alice', 'alice-password-2');
    assert.equal(await sessions.resolve(s.secret), undefined);
  });

  it('has a CSRF token only its own secret matches', () => {
    const a = `${SESSION_PREFIX}a`;
    const b = `${SESSION_PREFIX}b`;
    assert.ok(csrfMatches(a, csrfToken(a)));
    assert.ok(!csrfMatches(a, csrfToken(b)));
    assert.ok(!csrfMatches(a, undefined));
    assert.ok(!csrfMatches(a, ''));
  });
});
