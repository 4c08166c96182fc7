import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ThreadedSha256, threadedSha256Available } from './threaded-sha256.ts';

const SKIP = threadedSha256Available
  ? false
  : process.env['CI'] === 'true'
    ? false // under CI the addon must be built: let the tests fail
    : 'the native sha256 addon (native/sha256.c) is not built';

const MiB = 1024 * 1024;

describe('ThreadedSha256', { skip: SKIP }, () => {
  it('equals node:crypto over small (inline) and large (pool) chunks, with peeks between them', async () => {
    const sizes = [0, 1, 4096, 100, 3 * MiB, 16 * 1024 - 1, 16 * 1024, 64 * 1024, 5, 2 * MiB + 7, 10];
    const h = new ThreadedSha256();
    const ref = createHash('sha256');
    for (const [i, size] of sizes.entries()) {
      const chunk = randomBytes(size);
      await h.update(chunk);
      ref.update(chunk);
      if (i % 3 === 2) assert.equal(await h.peek(), `sha256:${ref.copy().digest('hex')}`, `peek after chunk ${i}`);
    }
    assert.equal(await h.digest(), `sha256:${ref.digest('hex')}`);
  });

  it('asks the caller to wait once more than 8 MiB are queued, and hashes everything in order', async () => {
    const h = new ThreadedSha256();
    const ref = createHash('sha256');
    let waits = 0;
    for (let i = 0; i < 24; i++) {
      const chunk = randomBytes(MiB);
      ref.update(chunk);
      const hold = h.update(chunk);
      if (hold) {
        waits++;
        // without waiting, keep queueing: the order must still hold
        if (i % 2 === 0) await hold;
      }
    }
    assert.ok(waits > 0, 'update() returned a promise past the backlog');
    assert.equal(await h.digest(), `sha256:${ref.digest('hex')}`);
  });

  it('refuses to go on after the final digest', async () => {
    const h = new ThreadedSha256();
    await h.update(Buffer.from('abc'));
    assert.equal(await h.digest(), 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    await assert.rejects(h.digest(), /already taken/);
    assert.throws(() => h.update(Buffer.from('x')), /already taken/);
  });
});
