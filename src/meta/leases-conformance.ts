/**
 * ONE behavioural suite for every JobLeases implementation (SQLite, PostgreSQL): each
 * implementation's test calls runJobLeasesConformance with a factory for empty leases that read
 * the time from the clock they are given.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { withLease, type JobLeases } from './leases.ts';

export interface JobLeasesFixture {
  leases: JobLeases;
  cleanup: () => Promise<void>;
}

const T0 = 1_000_000;
const TTL = 1_000;

export function runJobLeasesConformance(name: string, make: (now: () => number) => Promise<JobLeasesFixture>): void {
  describe(`job leases conformance: ${name}`, () => {
    let f: JobLeasesFixture;
    let leases: JobLeases;
    /** The leases' clock. */
    let time: number;
    beforeEach(async () => {
      time = T0;
      f = await make(() => time);
      leases = f.leases;
    });
    afterEach(() => f.cleanup());

    it('gives a free job to the first holder and refuses others until the lease expires, then hands it over', async () => {
      assert.equal(await leases.acquire('purge', 'node-a', TTL), true);
      assert.equal(await leases.acquire('purge', 'node-b', TTL), false);
      time = T0 + TTL - 1;
      assert.equal(await leases.acquire('purge', 'node-b', TTL), false, 'still held');
      time = T0 + TTL;
      assert.equal(await leases.acquire('purge', 'node-b', TTL), true, 'expired: taken over');
      assert.equal(await leases.acquire('purge', 'node-a', TTL), false, 'the old holder lost it');
    });

    it('renews the lease when its holder acquires it again', async () => {
      assert.equal(await leases.acquire('purge', 'node-a', TTL), true);
      time = T0 + 600;
      assert.equal(await leases.acquire('purge', 'node-a', TTL), true);
      time = T0 + TTL;
      assert.equal(await leases.acquire('purge', 'node-b', TTL), false, 'held until T0 + 600 + TTL');
      time = T0 + 600 + TTL;
      assert.equal(await leases.acquire('purge', 'node-b', TTL), true);
    });

    it('keeps jobs apart', async () => {
      assert.equal(await leases.acquire('purge', 'node-a', TTL), true);
      assert.equal(await leases.acquire('usage', 'node-b', TTL), true);
      assert.equal(await leases.acquire('usage', 'node-a', TTL), false);
    });

    it('releases only for its holder, and a released job is free at once', async () => {
      await leases.release('nothing', 'node-a');
      assert.equal(await leases.acquire('purge', 'node-a', TTL), true);
      await leases.release('purge', 'node-b');
      assert.equal(await leases.acquire('purge', 'node-b', TTL), false, "another holder's release changes nothing");
      await leases.release('purge', 'node-a');
      assert.equal(await leases.acquire('purge', 'node-b', TTL), true);
    });

    it('withLease runs the job on the holder of the lease only, keeps the lease after it, frees it after a failure', async () => {
      const ran: string[] = [];
      const job = (node: string) => () => void ran.push(node);
      assert.equal(await withLease(leases, 'usage', 'node-a', TTL, job('node-a')), true);
      assert.equal(await withLease(leases, 'usage', 'node-b', TTL, job('node-b')), false);
      time = T0 + TTL - 1;
      assert.equal(await withLease(leases, 'usage', 'node-b', TTL, job('node-b')), false, 'once per ttl across the cluster');
      assert.deepEqual(ran, ['node-a']);
      const failure = new Error('storage down');
      await assert.rejects(withLease(leases, 'usage', 'node-a', TTL, () => Promise.reject(failure)), failure);
      assert.equal(await withLease(leases, 'usage', 'node-b', TTL, job('node-b')), true, 'a failed run does not hold the job');
      assert.deepEqual(ran, ['node-a', 'node-b']);
    });
  });
}
