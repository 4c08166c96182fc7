/**
 * Copy a stream into a FileWriter without waiting for each write: the writer serializes its
 * writes, so the next chunks are received (and hashed) while earlier ones go to the backend, up
 * to `window` bytes in flight. Awaiting every write made receiving and writing take turns, which
 * capped a 1 GiB push well below what the socket, the hash and the disk each manage alone.
 */
import type { Readable } from 'node:stream';
import type { FileWriter } from './driver.ts';

export interface WriteStreamOptions {
  /** Bytes written but not yet acknowledged by the writer before reading pauses (default 8 MiB). */
  window?: number;
  /** Called with every chunk, in order, before it is written; a returned promise is awaited before the next read. */
  onChunk?: (chunk: Buffer) => Promise<void> | undefined | void;
}

/** Returns the number of bytes copied. On any error every queued write is settled before it throws. */
export async function writeStream(writer: FileWriter, body: Readable, opts: WriteStreamOptions = {}): Promise<number> {
  const window = opts.window ?? 8 * 1024 * 1024;
  const inflight: { done: Promise<void>; size: number }[] = [];
  let queued = 0;
  let copied = 0;
  let failure: { error: unknown } | undefined;
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      const hold = opts.onChunk?.(buf);
      const done = writer.write(buf);
      done.catch((error: unknown) => {
        failure ??= { error };
      });
      inflight.push({ done, size: buf.length });
      queued += buf.length;
      copied += buf.length;
      while (queued > window) {
        const oldest = inflight.shift();
        if (oldest === undefined) break;
        await oldest.done;
        queued -= oldest.size;
      }
      if (hold) await hold;
      if (failure) throw failure.error;
    }
  } finally {
    await Promise.allSettled(inflight.map((w) => w.done));
  }
  if (failure) throw failure.error;
  return copied;
}
