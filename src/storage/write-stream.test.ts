import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { FileWriter } from './driver.ts';
import { MemoryDriver } from './drivers/memory.ts';
import { writeStream } from './write-stream.ts';

function chunks(n: number, size: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.alloc(size, i));
}

describe('writeStream', () => {
  it('copies every chunk in order and reports them to onChunk', async () => {
    const d = new MemoryDriver();
    const w = await d.writer('/f', false);
    const seen: number[] = [];
    const parts = chunks(50, 1000);
    const n = await writeStream(w, Readable.from(parts), {
      window: 4096,
      onChunk: (c) => {
        seen.push(c[0] ?? -1);
      },
    });
    await w.commit();
    assert.equal(n, 50_000);
    assert.deepEqual(seen, parts.map((_, i) => i));
    assert.ok((await d.getContent('/f')).equals(Buffer.concat(parts)));
  });

  it('reads no further chunk until a promise returned by onChunk settles', async () => {
    const d = new MemoryDriver();
    const w = await d.writer('/f', false);
    const seen: number[] = [];
    let release: (() => void) | undefined;
    const copying = writeStream(w, Readable.from(chunks(3, 10)), {
      onChunk: (c) => {
        seen.push(c[0] ?? -1);
        if (seen.length === 1) return new Promise<void>((resolve) => (release = resolve));
        return undefined;
      },
    });
    for (let i = 0; i < 20 && release === undefined; i++) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, [0], 'the second chunk waited for the first one\'s promise');
    release?.();
    assert.equal(await copying, 30);
    assert.deepEqual(seen, [0, 1, 2]);
  });

  it('keeps at most the window in flight', async () => {
    let pending = 0;
    let most = 0;
    const slow: FileWriter = {
      size: 0,
      write: async (c) => {
        pending += c.length;
        most = Math.max(most, pending);
        await new Promise((r) => setTimeout(r, 1));
        pending -= c.length;
      },
      commit: async () => undefined,
      close: async () => undefined,
      cancel: async () => undefined,
    };
    await writeStream(slow, Readable.from(chunks(40, 1000)), { window: 5000 });
    assert.ok(most <= 6000, `in flight at most the window plus one chunk, saw ${most}`);
    assert.ok(most > 1000, 'writes overlap');
  });

  it('throws the first write error after settling every queued write', async () => {
    let settled = 0;
    const failing: FileWriter = {
      size: 0,
      write: async (c) => {
        await new Promise((r) => setTimeout(r, 1));
        settled++;
        if (c[0] === 3) throw new Error('disk full');
      },
      commit: async () => undefined,
      close: async () => undefined,
      cancel: async () => undefined,
    };
    await assert.rejects(writeStream(failing, Readable.from(chunks(20, 10)), { window: 1 << 20 }), /disk full/);
    assert.ok(settled >= 4);
  });

  it('passes on an error of the source stream', async () => {
    const d = new MemoryDriver();
    const w = await d.writer('/g', false);
    const source = new Readable({ read() {} });
    source.push(Buffer.from('partial'));
    setTimeout(() => source.destroy(new Error('client went away')), 5);
    await assert.rejects(writeStream(w, source), /client went away/);
  });
});
