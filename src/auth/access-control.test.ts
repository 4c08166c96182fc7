import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { AccessControl, type AccessControlParts } from './access-control.ts';
import type { AccountStore } from './store.ts';

/** The part of an account store enabled() reads: users, this process's changes, other processes' commits. */
class FakeStore {
  users = 0;
  own = 0;
  external = 0;
  externalReads = 0;
  userChanges(): number {
    return this.own;
  }
  externalChanges(): number {
    this.externalReads++;
    return this.external;
  }
  async hasUsers(): Promise<boolean> {
    return this.users > 0;
  }
}

function accessControl(store: FakeStore): AccessControl {
  const parts = { store: store as unknown as AccountStore, alwaysOn: false, challenge: { scheme: 'bearer', realm: undefined, service: 'berth' } };
  return new AccessControl(parts as unknown as AccessControlParts);
}

describe('AccessControl.enabled', () => {
  it("asks the store of other processes' commits once per event-loop turn while access is off", async () => {
    const store = new FakeStore();
    const access = accessControl(store);
    for (let i = 0; i < 50; i++) assert.equal(await access.enabled(), false);
    assert.equal(store.externalReads, 1, 'one read for the requests of one turn');
    await nextTurn();
    assert.equal(await access.enabled(), false);
    assert.equal(store.externalReads, 2, 'read again in the next turn');
  });

  it('is on from the next turn once another process (the CLI) created the first user', async () => {
    const store = new FakeStore();
    const access = accessControl(store);
    assert.equal(await access.enabled(), false);
    store.users = 1;
    store.external++;
    await nextTurn();
    assert.equal(await access.enabled(), true);
    // and stays on without asking again
    const reads = store.externalReads;
    await nextTurn();
    assert.equal(await access.enabled(), true);
    assert.equal(store.externalReads, reads);
  });

  it('is on at once, in the same turn, when a user is created through this process', async () => {
    const store = new FakeStore();
    const access = accessControl(store);
    assert.equal(await access.enabled(), false);
    store.users = 1;
    store.own++;
    assert.equal(await access.enabled(), true);
  });
});
