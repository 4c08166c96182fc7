/** Quota limits without HTTP: where a namespace's limit comes from (the e2e test, test/e2e/quotas.test.ts, covers pushes). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openSqliteBackend } from '../meta/sqlite/backend.ts';
import { QuotaExceededError } from './errors.ts';
import { Quotas } from './quota.ts';

describe('quotas', () => {
  it('a namespace gets its own config limit, else the default; an override wins until reset; names of Object.prototype are names', async () => {
    const backend = openSqliteBackend({ path: ':memory:', now: () => 5 });
    try {
      const quotas = new Quotas({ default: 100, namespaces: { acme: 1000, free: 0 } }, backend.settings, backend.usage);
      const limit = async (ns: string) => {
        const q = await quotas.of(ns);
        return [q.limit, q.source];
      };
      assert.deepEqual(await limit('acme'), [1000, 'config']);
      assert.deepEqual(await limit('alice'), [100, 'default']);
      assert.deepEqual(await limit('constructor'), [100, 'default']);
      assert.deepEqual(await limit('__proto__'), [100, 'default']);
      assert.deepEqual(await limit('free'), [0, 'config']);
      await quotas.setLimit('alice', 0, 'ops');
      assert.deepEqual(await limit('alice'), [0, 'api']);
      assert.equal(await quotas.resetLimit('alice'), true);
      assert.equal(await quotas.resetLimit('alice'), false);
      assert.deepEqual(await limit('alice'), [100, 'default']);

      await backend.meta.linkBlob('alice/app', { digest: `sha256:${'1'.repeat(64)}`, size: 90 });
      // counted at each check (the counts of the reads above are not reused)
      const fresh = new Quotas({ default: 100, namespaces: { acme: 1000, free: 0 } }, backend.settings, backend.usage, { ttlMs: 0 });
      await fresh.blobLink('alice/other', { digest: `sha256:${'1'.repeat(64)}`, size: 90 });
      await fresh.blobLink('alice/app', { digest: `sha256:${'2'.repeat(64)}`, size: 10 });
      await assert.rejects(fresh.blobLink('alice/app', { digest: `sha256:${'2'.repeat(64)}`, size: 11 }), (err: unknown) => {
        assert.ok(err instanceof QuotaExceededError);
        assert.deepEqual(err.detail, { namespace: 'alice', used: 90, limit: 100, size: 11 });
        return true;
      });
      await fresh.blobLink('free/app', { digest: `sha256:${'3'.repeat(64)}`, size: 10 ** 12 });
    } finally {
      await backend.close();
    }
  });

  it("reuses a namespace's count for ttlMs, adding what it admits, and counts again after", async () => {
    const backend = openSqliteBackend({ path: ':memory:' });
    try {
      let time = 0;
      let counts = 0;
      const usage = {
        namespaceUsage: (ns: string) => {
          counts++;
          return backend.usage.namespaceUsage(ns);
        },
        namespaceLinks: (ns: string, digest: string) => backend.usage.namespaceLinks(ns, digest),
      };
      const quotas = new Quotas({ default: 100, namespaces: {} }, undefined, usage, { ttlMs: 1000, now: () => time });
      const d = (c: string) => `sha256:${c.repeat(64)}`;
      await backend.meta.linkBlob('alice/app', { digest: d('1'), size: 50 });
      await quotas.blobLink('alice/app', { digest: d('2'), size: 30 });
      await backend.meta.linkBlob('alice/app', { digest: d('2'), size: 30 });
      await assert.rejects(quotas.blobLink('alice/app', { digest: d('3'), size: 30 }), QuotaExceededError, '50 + 30 admitted + 30 > 100, without counting again');
      assert.equal(counts, 1);
      await backend.meta.unlinkBlob('alice/app', d('1'));
      time = 999;
      await assert.rejects(quotas.blobLink('alice/app', { digest: d('3'), size: 30 }), QuotaExceededError, 'the delete is not seen within ttlMs');
      time = 1000;
      await quotas.blobLink('alice/app', { digest: d('3'), size: 30 });
      assert.equal(counts, 2, 'counted again after ttlMs: 30 + 30 <= 100');
      assert.equal((await quotas.of('alice')).used, 30, 'the API counts now');
    } finally {
      await backend.close();
    }
  });
});
