/** Reading a small stream whole, under a limit. */
import type { Readable } from 'node:stream';

/**
 * The whole stream if it holds at most `limit` bytes, else undefined. Past the limit the rest is
 * drained, not destroyed: an HTTP request must stay usable to carry its error response.
 */
export async function readAtMost(stream: Readable, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream.iterator({ destroyOnReturn: false })) {
    const buf = chunk as Buffer;
    total += buf.length;
    if (total > limit) {
      stream.resume();
      return undefined;
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, total);
}
