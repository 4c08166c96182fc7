/**
 * PgLoginFailures: the shared FailureCounts suite on PostgreSQL; two pools (nodes) counting the
 * same keys at once, in opposite orders, without losing a failure or deadlocking; dead rows
 * pruned; and two LoginThrottles ("nodes") on one database: a guesser gets one allowance across
 * them, a lock set on one refuses him on the other, a success on either clears the count; and
 * the same through two nodes' access control built from their backends (createAccessControl).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PG_SKIP, pgDatabase, type PgFixture } from '../../../test/helpers/pg-database.ts';
import { AuthenticationError, LoginThrottledError } from '../../auth/errors.ts';
import { runFailureCountsConformance } from '../../auth/failure-store-conformance.ts';
import { SYSTEM } from '../../auth/principal.ts';
import { createAccessControl } from '../../auth/setup.ts';
import { LoginThrottle, type ThrottleClock, type ThrottleOptions } from '../../auth/throttle.ts';
import { configSchema } from '../../config/schema.ts';
import { postgresBackend } from './backend.ts';
import { PgDatabase } from './database.ts';
import { failureKey, PgLoginFailures } from './login-failures.ts';

if (PG_SKIP === false) {
  runFailureCountsConformance('postgres', async () => {
    const f = await pgDatabase();
    return { store: new PgLoginFailures(f.db), cleanup: f.cleanup };
  });
}

/** Two nodes' pools on one database; `run` gets both, then they are closed. */
async function twoNodes(run: (a: PgDatabase, b: PgDatabase, f: PgFixture) => Promise<void>): Promise<void> {
  const f = await pgDatabase();
  const other = new PgDatabase({ connectionString: f.url, maxOpen: 4 });
  try {
    await run(f.db, other, f);
  } finally {
    await other.close();
    await f.cleanup();
  }
}

/** A clock the test moves; nothing here waits (no address is slowed), so sleeps return at once. */
class TestClock implements ThrottleClock {
  t = 1_000_000;
  now(): number {
    return this.t;
  }
  sleep(): Promise<void> {
    return Promise.resolve();
  }
}

const OPTIONS: Partial<ThrottleOptions> = { freeAttempts: 3, addressFreeAttempts: 6, userFreeAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000, windowMs: 60_000 };

describe('postgres login failures across nodes', { skip: PG_SKIP }, () => {
  it('counts every failure of two nodes recording the same keys at once in opposite orders', () =>
    twoNodes(async (a, b) => {
      const stores = [new PgLoginFailures(a), new PgLoginFailures(b)];
      const keys = ['a:10.0.0.1', 'u:10.0.0.1\0alice', 'g:alice'];
      await Promise.all(Array.from({ length: 60 }, (_, i) => stores[i % 2]?.record(i % 2 === 0 ? keys : [...keys].reverse(), 1_000 + i, 0)));
      const counts = await stores[0]?.read(keys, 0);
      assert.deepEqual(keys.map((k) => counts?.get(k)), keys.map(() => ({ failures: 60, lastAt: 1_059 })));
    }));

  it('stores keys as sha256 hex only, and deletes rows past the window after a failure, at most once per pruneEveryMs', () =>
    twoNodes(async (db) => {
      const store = new PgLoginFailures(db, { pruneEveryMs: 1_000 });
      await store.record(['old\0one', 'old two'], 1_000, 0);
      await store.record(['new'], 1_500, 0);
      const stored = await db.rows<{ key: string }>('SELECT key FROM login_failures ORDER BY key');
      assert.deepEqual(stored.map((r) => r.key), ['new', 'old\0one', 'old two'].map(failureKey).sort());
      await store.record(['newer'], 1_999, 1_200);
      assert.equal(stored.length, (await db.rows('SELECT key FROM login_failures')).length - 1, 'not yet a pruneEveryMs since the last prune');
      await store.record(['newest'], 2_000, 1_200);
      const left = await db.rows<{ key: string }>('SELECT key FROM login_failures ORDER BY key');
      assert.deepEqual(left.map((r) => r.key), ['new', 'newer', 'newest'].map(failureKey).sort());
      assert.equal(await store.prune(3_000), 3);
    }));

  it("two throttles on one database: one allowance for both, a lock on one refuses on the other, a success on the other clears it", () =>
    twoNodes(async (dbA, dbB) => {
      const clock = new TestClock();
      const nodeA = new LoginThrottle(OPTIONS, clock, new PgLoginFailures(dbA));
      const nodeB = new LoginThrottle(OPTIONS, clock, new PgLoginFailures(dbB));
      // Round-robin: guesses alternate between the nodes; the allowance (3) is theirs together.
      await nodeA.failed('alice', '10.0.0.1');
      await nodeB.failed('alice', '10.0.0.1');
      await nodeA.failed('alice', '10.0.0.1');
      assert.equal(await nodeB.admit('alice', '10.0.0.1'), 0, 'the allowance is used up, not passed');
      await nodeA.failed('alice', '10.0.0.1');
      assert.equal(await nodeB.admit('alice', '10.0.0.1'), 100, 'locked on B by failures on A: refused at once (Retry-After)');
      assert.equal(await nodeB.userLockMs('alice', '10.0.0.1'), 100);
      assert.equal(await nodeA.admit('alice', '10.0.0.2'), 0, 'alice elsewhere is not locked');
      await nodeB.failed('alice', '10.0.0.1');
      assert.equal(await nodeA.admit('alice', '10.0.0.1'), 200, 'the lock doubles whichever node counted');
      clock.t += 200;
      assert.equal(await nodeB.admit('alice', '10.0.0.1'), 0, 'the lock ends on both');
      await nodeB.succeeded('alice', '10.0.0.1');
      assert.equal(await nodeA.userLockMs('alice', '10.0.0.1'), 0, "B's success clears A's count");
      for (let i = 0; i < 3; i++) await nodeA.failed('alice', '10.0.0.1');
      assert.equal(await nodeA.admit('alice', '10.0.0.1'), 0, 'a fresh allowance after the success');
      // The address's allowance (6) is shared too: A slows what B counted.
      for (let i = 0; i < 4; i++) await nodeB.failed(`nobody${i}`, '10.0.0.9');
      for (let i = 0; i < 3; i++) await nodeA.failed(undefined, '10.0.0.9');
      assert.equal(await nodeA.slowdownMs('10.0.0.9'), 100);
    }));

  it('answers for a hostile user name (NUL, 100,000 characters) without error', () =>
    twoNodes(async (db) => {
      const clock = new TestClock();
      const node = new LoginThrottle(OPTIONS, clock, new PgLoginFailures(db));
      for (const user of ['\0', `alice\0${'x'.repeat(100_000)}`, "'; DROP TABLE login_failures; --"]) {
        for (let i = 0; i < 4; i++) await node.failed(user, '2001:db8::1');
        assert.equal(await node.admit(user, '2001:db8::2'), 100, 'locked at its /64');
        assert.equal(await node.admit('alice', '2001:db8::2'), 0, 'another user is not');
      }
    }));
});

describe('postgres backend login failures, wired', { skip: PG_SKIP }, () => {
  it('the access control of two nodes built from their backends shares the locks', () =>
    twoNodes(async (dbA, dbB) => {
      const config = configSchema.parse({});
      const [a, b] = await Promise.all(
        [dbA, dbB].map(async (db) => {
          const backend = await postgresBackend(db);
          assert.ok(backend.loginFailures instanceof PgLoginFailures);
          return createAccessControl({ config, store: backend.accounts, meta: backend.meta, keys: backend.keys, loginFailures: backend.loginFailures });
        }),
      );
      assert.ok(a !== undefined && b !== undefined);
      await a.accounts.createUser(SYSTEM, 'bob', 'bob-password-1', false);
      // The default allowance is 5: four failures on A, the fifth and sixth on B; then he is locked for a second (DEFAULT_THROTTLE).
      for (let i = 0; i < 6; i++) await assert.rejects((i < 4 ? a : b).authenticator.login('bob', `wrong-${i}`, '10.0.0.1'), AuthenticationError);
      const locked = (err: unknown): boolean => err instanceof LoginThrottledError && err.retryAfterSec === 1;
      await assert.rejects(a.authenticator.login('bob', 'bob-password-1', '10.0.0.1'), locked, 'A refuses him, locked by a failure on B');
      await assert.rejects(b.authenticator.login('bob', 'bob-password-1', '10.0.0.1'), locked);
      assert.equal((await b.authenticator.login('bob', 'bob-password-1', '10.0.0.2')).name, 'bob', 'bob elsewhere is not locked');
    }));
});
