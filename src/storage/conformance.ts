/**
 * The one conformance suite for StorageDriver implementations (after distribution's
 * storage/driver/testsuites). Each driver's test calls runDriverConformance with a factory that
 * returns a fresh, path-validated driver. Every test deletes what it created through the driver;
 * the suite then fails if anything is left: visible paths under `/`, or raw leftovers (temp
 * files, empty directories) reported by the factory's `listLeftovers`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FileInfo, StorageDriver } from './driver.ts';
import { InvalidOffsetError, InvalidPathError } from './driver.ts';
import { inTheWay, notFound, readAll, walked } from './conformance-support.ts';
import { writerCases } from './conformance-writer.ts';

export interface DriverUnderTest {
  driver: StorageDriver;
  cleanup: () => Promise<void>;
  /** Everything the backend still holds, hidden or not (e.g. all entries under the fs root). */
  listLeftovers?: () => Promise<string[]>;
}

export function runDriverConformance(name: string, make: () => Promise<DriverUnderTest>): void {
  /** A test body on a fresh driver, followed by the leftover check, then cleanup. */
  function test(title: string, body: (driver: StorageDriver) => Promise<void>): void {
    it(title, async () => {
      const env = await make();
      try {
        await body(env.driver);
        assert.deepEqual(await env.driver.list('/'), [], 'the test should leave no paths behind');
        assert.deepEqual((await env.listLeftovers?.()) ?? [], [], 'the driver left something behind');
      } finally {
        await env.cleanup();
      }
    });
  }

  describe(`storage driver conformance: ${name}`, () => {
    describe('content', () => {
      test('putContent then getContent round-trips bytes, including empty content', async (d) => {
        const bytes = randomBytes(4096);
        await d.putContent('/c/bin', bytes);
        await d.putContent('/c/empty', Buffer.alloc(0));
        assert.deepEqual(await d.getContent('/c/bin'), bytes);
        assert.equal((await d.getContent('/c/empty')).length, 0);
        await d.delete('/c');
      });

      test('putContent overwrites and stat reports the new size', async (d) => {
        await d.putContent('/c/f', Buffer.from('a longer first version'));
        await d.putContent('/c/f', Buffer.from('short'));
        assert.equal((await d.getContent('/c/f')).toString(), 'short');
        assert.equal((await d.stat('/c/f')).size, 5);
        await d.delete('/c/f');
      });

      test('putContent with durable: false is readable at once, and flush makes it durable', async (d) => {
        await d.putContent('/lazy/a', Buffer.from('not yet flushed'), { durable: false });
        assert.equal((await d.getContent('/lazy/a')).toString(), 'not yet flushed');
        assert.deepEqual(await d.flush(['/lazy/a', '/lazy/missing']), ['/lazy/missing']);
        assert.equal((await d.getContent('/lazy/a')).toString(), 'not yet flushed');
        await d.delete('/lazy');
      });

      test('openFile gives the file to send from, or undefined where the backend has none', async (d) => {
        await d.putContent('/open/f', Buffer.from('0123456789'));
        const file = await d.openFile('/open/f');
        if (file !== undefined) {
          assert.equal(file.size, 10);
          assert.ok(Number.isInteger(file.fd) && file.fd >= 0);
          await file.close();
        }
        await assert.rejects(d.openFile('/open/missing'), notFound('/open/missing'));
        await d.delete('/open');
      });

      test('putContent creates parent directories', async (d) => {
        await d.putContent('/a/b/c/d', Buffer.from('x'));
        assert.deepEqual(await d.list('/a/b'), ['/a/b/c']);
        assert.equal((await d.stat('/a/b/c')).isDir, true);
        await d.delete('/a');
      });

      test('concurrent putContent to one path leaves one complete version', async (d) => {
        const versions = Array.from({ length: 8 }, (_, i) => Buffer.alloc(64 * 1024, i));
        await Promise.all(versions.map((v) => d.putContent('/race/f', v)));
        const final = await d.getContent('/race/f');
        assert.ok(versions.some((v) => v.equals(final)), 'content is one of the versions, never a mix');
        assert.deepEqual(await d.list('/race'), ['/race/f']);
        await d.delete('/race');
      });
    });

    describe('reader', () => {
      test('reads from an offset to an inclusive end, clamping end to the file', async (d) => {
        await d.putContent('/r/f', Buffer.from('0123456789'));
        assert.equal((await readAll(await d.reader('/r/f'))).toString(), '0123456789');
        assert.equal((await readAll(await d.reader('/r/f', { offset: 3 }))).toString(), '3456789');
        assert.equal((await readAll(await d.reader('/r/f', { offset: 2, end: 4 }))).toString(), '234');
        assert.equal((await readAll(await d.reader('/r/f', { end: 99 }))).toString(), '0123456789');
        assert.equal((await readAll(await d.reader('/r/f', { offset: 5, end: 2 }))).length, 0);
        await d.delete('/r/f');
      });

      test('an offset equal to the size yields an empty stream', async (d) => {
        await d.putContent('/r/f', Buffer.from('0123456789'));
        assert.equal((await readAll(await d.reader('/r/f', { offset: 10 }))).length, 0);
        await d.putContent('/r/empty', Buffer.alloc(0));
        assert.equal((await readAll(await d.reader('/r/empty'))).length, 0);
        await d.delete('/r');
      });

      test('an offset past the end or negative is InvalidOffsetError', async (d) => {
        await d.putContent('/r/f', Buffer.from('0123456789'));
        for (const offset of [11, 1000, -1]) {
          await assert.rejects(d.reader('/r/f', { offset }), (err: unknown) => {
            return err instanceof InvalidOffsetError && err.offset === offset && err.path === '/r/f';
          });
        }
        await d.delete('/r/f');
      });
    });

    describe('missing paths', () => {
      test('every method on a missing path is PathNotFoundError', async (d) => {
        const p = '/missing/file';
        await assert.rejects(d.getContent(p), notFound(p));
        await assert.rejects(d.reader(p), notFound(p));
        await assert.rejects(d.writer(p, true), notFound(p));
        await assert.rejects(d.stat(p), notFound(p));
        await assert.rejects(d.list(p), notFound(p));
        await assert.rejects(d.move(p, '/elsewhere'), notFound(p));
        await assert.rejects(d.delete(p), notFound(p));
        await assert.rejects(d.walk(p, () => undefined), notFound(p));
        await assert.rejects(d.stat('/elsewhere'), notFound('/elsewhere'));
      });

      test('a path below a file is missing', async (d) => {
        await d.putContent('/f', Buffer.from('x'));
        for (const call of [(p: string) => d.getContent(p), (p: string) => d.stat(p), (p: string) => d.list(p), (p: string) => d.delete(p)]) {
          await assert.rejects(call('/f/below'), notFound('/f/below'));
        }
        await d.delete('/f');
      });

      test('a directory where a file is expected reads as missing, and the reverse', async (d) => {
        await d.putContent('/dir/f', Buffer.from('x'));
        await assert.rejects(d.getContent('/dir'), notFound('/dir'));
        await assert.rejects(d.reader('/dir'), notFound('/dir'));
        await assert.rejects(d.writer('/dir', true), notFound('/dir'));
        await assert.rejects(d.list('/dir/f'), notFound('/dir/f'));
        await assert.rejects(d.walk('/dir/f', () => undefined), notFound('/dir/f'));
        await d.delete('/dir');
      });

      test('writing where a file or directory is in the way is a StorageError', async (d) => {
        await d.putContent('/dir/f', Buffer.from('x'));
        await assert.rejects(d.putContent('/dir', Buffer.from('y')), inTheWay);
        await assert.rejects(d.putContent('/dir/f/below', Buffer.from('y')), inTheWay);
        await assert.rejects(d.writer('/dir', false), inTheWay);
        await assert.rejects(d.move('/dir/f', '/dir'), inTheWay);
        await assert.rejects(d.move('/dir', '/other'), inTheWay);
        assert.equal((await d.getContent('/dir/f')).toString(), 'x');
        await d.delete('/dir');
      });
    });

    writerCases(test);

    describe('stat, list, walk', () => {
      test('stat describes files and directories', async (d) => {
        const before = Date.now() - 2000;
        await d.putContent('/s/f', Buffer.from('12345'));
        const file: FileInfo = await d.stat('/s/f');
        assert.equal(file.path, '/s/f');
        assert.equal(file.size, 5);
        assert.equal(file.isDir, false);
        assert.ok(file.modTime instanceof Date && file.modTime.getTime() >= before && file.modTime.getTime() <= Date.now() + 2000);
        const dir = await d.stat('/s');
        assert.equal(dir.path, '/s');
        assert.equal(dir.isDir, true);
        await d.delete('/s');
      });

      test('list returns the sorted direct children as full paths', async (d) => {
        for (const p of ['/l/b', '/l/a/x', '/l/c/y/z', '/l/a.b', '/top']) await d.putContent(p, Buffer.from(p));
        assert.deepEqual(await d.list('/l'), ['/l/a', '/l/a.b', '/l/b', '/l/c']);
        assert.deepEqual(await d.list('/'), ['/l', '/top']);
        await d.delete('/l');
        await d.delete('/top');
      });

      test('walk visits files only, depth first in sorted order', async (d) => {
        const files = ['/t/a', '/t/b/c', '/t/b/d/e', '/t/b/f', '/t/c', '/t/c0/g'];
        for (const p of [...files].reverse()) await d.putContent(p, Buffer.from(p));
        const infos: FileInfo[] = [];
        await d.walk('/t', async (info) => {
          infos.push(info);
        });
        assert.deepEqual(infos.map((i) => i.path), files);
        assert.ok(infos.every((i) => !i.isDir && i.size === i.path.length));
        assert.deepEqual(await walked(d, '/t/b'), ['/t/b/c', '/t/b/d/e', '/t/b/f']);
        assert.deepEqual(await walked(d, '/'), files);
        await d.delete('/t');
        assert.deepEqual(await walked(d, '/'), []);
      });

      test('walk tolerates the visitor deleting what it visits', async (d) => {
        for (const p of ['/t/a/1', '/t/a/2', '/t/b/1']) await d.putContent(p, Buffer.from('x'));
        const seen: string[] = [];
        await d.walk('/', async (info) => {
          seen.push(info.path);
          await d.delete(info.path);
        });
        assert.deepEqual(seen, ['/t/a/1', '/t/a/2', '/t/b/1']);
      });
    });

    describe('move and delete', () => {
      test('move creates the destination parents and removes the source', async (d) => {
        const bytes = randomBytes(5000);
        await d.putContent('/up/u1/data', bytes);
        await d.move('/up/u1/data', '/blobs/ab/abcd/data');
        assert.deepEqual(await d.getContent('/blobs/ab/abcd/data'), bytes);
        await assert.rejects(d.stat('/up/u1/data'), notFound('/up/u1/data'));
        // The source's directory may stay (empty) or go: a driver need not prune on move.
        const left = await d.list('/');
        assert.ok(left.includes('/blobs'));
        if (left.includes('/up')) {
          assert.deepEqual(await d.list('/up/u1'), [], 'nothing but empty directories stays behind');
          await d.delete('/up');
        }
        await d.delete('/blobs');
      });

      test('move replaces an existing destination', async (d) => {
        await d.putContent('/m/src', Buffer.from('new'));
        await d.putContent('/m/dst', Buffer.from('old and longer'));
        await d.move('/m/src', '/m/dst');
        assert.equal((await d.getContent('/m/dst')).toString(), 'new');
        assert.deepEqual(await d.list('/m'), ['/m/dst']);
        await d.move('/m/dst', '/m/dst');
        assert.equal((await d.getContent('/m/dst')).toString(), 'new', 'moving onto itself is a no-op');
        await d.delete('/m');
      });

      test('a failed move leaves the destination untouched', async (d) => {
        await d.putContent('/m/dst', Buffer.from('keep'));
        await assert.rejects(d.move('/m/nothing', '/m/dst'), notFound('/m/nothing'));
        assert.equal((await d.getContent('/m/dst')).toString(), 'keep');
        await d.delete('/m');
      });

      test('delete removes a file, keeping its siblings', async (d) => {
        await d.putContent('/d/a', Buffer.from('a'));
        await d.putContent('/d/b', Buffer.from('b'));
        await d.delete('/d/a');
        assert.deepEqual(await d.list('/d'), ['/d/b']);
        await d.delete('/d/b');
        await assert.rejects(d.stat('/d'), notFound('/d'));
      });

      test('delete removes a directory tree and prunes emptied parents', async (d) => {
        for (const p of ['/d/x/tree/1', '/d/x/tree/sub/2', '/d/x/tree/sub/deeper/3']) await d.putContent(p, Buffer.from(p));
        await d.delete('/d/x/tree');
        await assert.rejects(d.stat('/d/x/tree/sub/2'), notFound('/d/x/tree/sub/2'));
        await assert.rejects(d.stat('/d'), notFound('/d'));
      });
    });

    describe('paths and URLs', () => {
      test('invalid paths are rejected with InvalidPathError by every method', async (d) => {
        const bad = ['', 'relative/path', '/a/../b', '/..', '/a//b', '/Upper', '/a/', '/a/.', '/sp ace', '/a/.tmp-x'];
        const calls: ((p: string) => Promise<unknown>)[] = [
          (p) => d.getContent(p),
          (p) => d.putContent(p, Buffer.from('x')),
          (p) => d.reader(p),
          (p) => d.writer(p, false),
          (p) => d.stat(p),
          (p) => d.list(p),
          (p) => d.move(p, '/ok'),
          (p) => d.move('/ok', p),
          (p) => d.delete(p),
          (p) => d.redirectURL(p, 'GET'),
          (p) => d.walk(p, () => undefined),
        ];
        for (const p of bad) {
          for (const call of calls) await assert.rejects(call(p), InvalidPathError, `${JSON.stringify(p)} must be rejected`);
        }
        for (const call of calls.slice(0, 5)) await assert.rejects(call('/'), InvalidPathError, 'the root is not a file');
        await assert.rejects(d.delete('/'), InvalidPathError);
      });

      test('redirectURL is undefined or a URL', async (d) => {
        await d.putContent('/u/f', Buffer.from('x'));
        const url = await d.redirectURL('/u/f', 'GET');
        if (url !== undefined) assert.doesNotThrow(() => new URL(url));
        await d.delete('/u');
      });
    });
  });
}
