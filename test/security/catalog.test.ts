/**
 * Finding 2 of the adversarial review: the catalog was filtered name by name after the query, with
 * one or two account-store queries per hidden name and no cap, so an anonymous page after `last`
 * cost (and took) time in proportion to the private names that followed it. The visibility
 * condition is now part of the catalog's SQL: a page asks the account store nothing per name, and
 * lists only what the caller may pull.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAuthRegistry, type AuthRegistry } from '../helpers/auth.ts';
import { basicHeader } from '../helpers/auth-client.ts';
import { SYSTEM } from '../../src/auth/principal.ts';
import type { AccountStore } from '../../src/auth/store.ts';
import type { NewManifest } from '../../src/meta/store.ts';

const HIDDEN = 2_000;

let counter = 0;
function manifest(): NewManifest {
  const hex = (++counter).toString(16).padStart(64, '0');
  return { digest: `sha256:${hex}`, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 10, artifactType: null, subject: null, annotations: null, createdAt: 0, blobs: [], children: [] };
}

/** Counts calls to every method of the account store the policy holds (the same object: access.store). */
function countCalls(store: AccountStore): { calls: () => number } {
  let calls = 0;
  const target = store as unknown as Record<string, unknown>;
  for (const key of Object.getOwnPropertyNames(Object.getPrototypeOf(store))) {
    const fn = target[key];
    if (key === 'constructor' || typeof fn !== 'function') continue;
    target[key] = (...args: unknown[]) => {
      calls++;
      return (fn as (...a: unknown[]) => unknown).apply(store, args);
    };
  }
  return { calls: () => calls };
}

async function catalogToken(url: string, auth?: string): Promise<string> {
  const res = await fetch(`${url}/auth/token?service=berth&scope=registry:catalog:*`, { headers: auth === undefined ? {} : { authorization: auth } });
  assert.equal(res.status, 200);
  return ((await res.json()) as { token: string }).token;
}

describe('the catalog filters in its query, not name by name', () => {
  let reg: AuthRegistry;
  let counter: { calls: () => number };

  before(async () => {
    reg = await startAuthRegistry();
    await reg.accounts.createUser(SYSTEM, 'alice', 'alice-password-1', false);
    await reg.accounts.createUser(SYSTEM, 'mallory', 'mallory-password-1', false);
    const { meta } = reg.running.registry;
    const store = reg.running.access.store;
    for (const [name, visibility] of [['alice/pub', 'public'], ['zed/pub', 'public']] as const) {
      await store.claimRepository(name, name.split('/')[0] ?? '', visibility);
      await meta.putManifest(name, manifest(), 'v1');
    }
    for (let i = 0; i < HIDDEN; i++) {
      const name = `alice/secret-${String(i).padStart(5, '0')}`;
      await store.claimRepository(name, 'alice', 'private');
      await meta.putManifest(name, manifest(), 'v1');
    }
    counter = countCalls(store);
  });
  after(() => reg.stop());

  it(`answers an anonymous page after ${HIDDEN} hidden names with no account-store query per name`, async () => {
    const token = await catalogToken(reg.url);
    const before = counter.calls();
    const res = await fetch(`${reg.url}/v2/_catalog?n=1&last=alice/pub`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { repositories: ['zed/pub'] });
    const calls = counter.calls() - before;
    assert.ok(calls <= 10, `the page made ${calls} account-store calls`);
  });

  it('lists for another user the public repositories only, and for the owner all of theirs', async () => {
    const mallory = await catalogToken(reg.url, basicHeader({ user: 'mallory', password: 'mallory-password-1' }));
    const res = await fetch(`${reg.url}/v2/_catalog`, { headers: { authorization: `Bearer ${mallory}` } });
    assert.deepEqual(await res.json(), { repositories: ['alice/pub', 'zed/pub'] });
    const alice = await catalogToken(reg.url, basicHeader({ user: 'alice', password: 'alice-password-1' }));
    const before = counter.calls();
    const page = (await (await fetch(`${reg.url}/v2/_catalog?n=3&last=alice/secret-00100`, { headers: { authorization: `Bearer ${alice}` } })).json()) as {
      repositories: string[];
    };
    assert.deepEqual(page.repositories, ['alice/secret-00101', 'alice/secret-00102', 'alice/secret-00103']);
    const calls = counter.calls() - before;
    assert.ok(calls <= 10, `the page made ${calls} account-store calls`);
  });
});
