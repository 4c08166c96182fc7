/**
 * The writer cases of the storage driver conformance suite (conformance.ts runs them): resumable
 * writers, their sizes, commit and cancel. Split out to keep each suite file about one subject.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { StorageDriver } from './driver.ts';
import { StorageError } from './driver.ts';
import { MiB, notFound, readAll } from './conformance-support.ts';

/** Declares a test body run on a fresh driver, with the suite's leftover check. */
export type DriverTest = (title: string, body: (driver: StorageDriver) => Promise<void>) => void;

export function writerCases(test: DriverTest): void {
  describe('writer', () => {
    test('tracks size exactly and commit makes the bytes readable', async (d) => {
      const w = await d.writer('/w/f', false);
      assert.equal(w.size, 0);
      const parts = [Buffer.from('ab'), Buffer.alloc(0), randomBytes(1000), randomBytes(3 * MiB + 7), Buffer.from('z')];
      let expected = 0;
      for (const part of parts) {
        await w.write(part);
        expected += part.length;
        assert.equal(w.size, expected);
      }
      await w.commit();
      assert.deepEqual(await d.getContent('/w/f'), Buffer.concat(parts));
      assert.equal((await d.stat('/w/f')).size, expected);
      await d.delete('/w/f');
    });

    test('resumes across several writer instances with append-open', async (d) => {
      const [first, second, third] = [randomBytes(10), randomBytes(2 * MiB), randomBytes(333)];
      let w = await d.writer('/w/f', false);
      await w.write(first);
      await w.close();
      assert.equal((await d.getContent('/w/f')).length, 10, 'close keeps the content');
      w = await d.writer('/w/f', true);
      assert.equal(w.size, 10);
      await w.write(second);
      await w.close();
      w = await d.writer('/w/f', true);
      assert.equal(w.size, 10 + 2 * MiB);
      await w.write(third);
      assert.equal(w.size, 10 + 2 * MiB + 333);
      await w.commit();
      assert.deepEqual(await d.getContent('/w/f'), Buffer.concat([first, second, third]));
      await d.delete('/w/f');
    });

    test('opening without append truncates an existing file', async (d) => {
      await d.putContent('/w/f', Buffer.from('old content'));
      const w = await d.writer('/w/f', false);
      assert.equal(w.size, 0);
      await w.write(Buffer.from('new'));
      await w.commit();
      assert.equal((await d.getContent('/w/f')).toString(), 'new');
      await d.delete('/w/f');
    });

    test('an empty commit creates an empty file', async (d) => {
      const w = await d.writer('/w/empty', false);
      await w.commit();
      assert.equal((await d.stat('/w/empty')).size, 0);
      await d.delete('/w/empty');
    });

    test('cancel removes the file and the directories made for it', async (d) => {
      await d.putContent('/keep', Buffer.from('k'));
      const w = await d.writer('/w/deep/f', false);
      await w.write(randomBytes(100));
      await w.cancel();
      await assert.rejects(d.stat('/w/deep/f'), notFound('/w/deep/f'));
      assert.deepEqual(await d.list('/'), ['/keep']);
      const closed = await d.writer('/w/f', false);
      await closed.write(Buffer.from('x'));
      await closed.close();
      await closed.cancel();
      await assert.rejects(d.stat('/w/f'), notFound('/w/f'));
      await d.delete('/keep');
    });

    test('a finished writer refuses further calls', async (d) => {
      const w = await d.writer('/w/f', false);
      await w.write(Buffer.from('x'));
      await w.commit();
      await assert.rejects(w.write(Buffer.from('y')), StorageError);
      await assert.rejects(w.commit(), StorageError);
      await assert.rejects(w.close(), StorageError);
      await assert.rejects(w.cancel(), StorageError);
      assert.equal((await d.getContent('/w/f')).toString(), 'x');
      await d.delete('/w/f');
    });

    test('concurrent writers to different paths do not interfere', async (d) => {
      const paths = Array.from({ length: 6 }, (_, i) => `/cw/${i}/data`);
      const writers = await Promise.all(paths.map((p) => d.writer(p, false)));
      const written: Buffer[][] = paths.map(() => []);
      for (let round = 0; round < 5; round++) {
        await Promise.all(
          writers.map(async (w, i) => {
            const chunk = randomBytes(1 + ((round * 7919 + i * 104729) % (300 * 1024)));
            written[i]?.push(chunk);
            await w.write(chunk);
          }),
        );
      }
      await Promise.all(writers.map((w) => w.commit()));
      for (const [i, p] of paths.entries()) assert.deepEqual(await d.getContent(p), Buffer.concat(written[i] ?? []));
      await d.delete('/cw');
    });

    test('a large streamed write reads back with the same sha256', async (d) => {
      const total = 20 * MiB;
      const sent = createHash('sha256');
      const w = await d.writer('/big/data', false);
      for (let done = 0, i = 0; done < total; i++) {
        const chunk = randomBytes(Math.min(total - done, 16 * 1024 + ((i * 4099) % (200 * 1024))));
        sent.update(chunk);
        await w.write(chunk);
        done += chunk.length;
      }
      assert.equal(w.size, total);
      await w.commit();
      const received = createHash('sha256');
      for await (const chunk of await d.reader('/big/data')) received.update(chunk as Uint8Array);
      assert.equal(received.digest('hex'), sent.digest('hex'));
      assert.equal((await d.stat('/big/data')).size, total);
      const tail = await readAll(await d.reader('/big/data', { offset: total - 5 * MiB - 3 }));
      assert.equal(tail.length, 5 * MiB + 3);
      await d.delete('/big');
    });
  });
}
