// Test data: one random file generated once (hashed while written), and "payloads" made of
// that file repeated k times plus a small random trailer, so every push is a distinct blob
// (no dedup shortcuts) while its sha256 is derived from a saved hash state in O(trailer).
import { createHash, randomBytes, randomFillSync, type Hash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync, writeSync } from 'node:fs';
import { Readable } from 'node:stream';

const TRAILER_PER_COPY = 32;
const IO_CHUNK = 16 * 1024 * 1024;

export interface SourceFile {
  path: string;
  size: number;
  /** sha256 state after hashing the file once (copy() before use). */
  hash: Hash;
}

export interface Payload {
  source: SourceFile;
  repeat: number;
  trailer: Buffer;
  size: number;
  digest: string;
}

/**
 * Writes `blobSize - 32` random bytes to `path` (so that file + 32-byte trailer is exactly
 * blobSize), hashing as it goes.
 */
export function generateSource(path: string, blobSize: number): SourceFile {
  const size = blobSize - TRAILER_PER_COPY;
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(IO_CHUNK);
  const fd = openSync(path, 'w', 0o644);
  try {
    for (let off = 0; off < size; ) {
      const n = Math.min(IO_CHUNK, size - off);
      const view = buf.subarray(0, n);
      randomFillSync(view);
      hash.update(view);
      let written = 0;
      while (written < n) written += writeSync(fd, view, written, n - written);
      off += n;
    }
  } finally {
    closeSync(fd);
  }
  return { path, size, hash };
}

function hashFileInto(hash: Hash, path: string): void {
  const buf = Buffer.allocUnsafe(IO_CHUNK);
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, IO_CHUNK, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * A distinct blob: `repeat` copies of the source file + a random trailer of 32*repeat bytes
 * (total = repeat * (source.size + 32)). repeat > 1 re-reads the file to extend the hash.
 */
export function makePayload(source: SourceFile, repeat = 1): Payload {
  const trailer = randomBytes(TRAILER_PER_COPY * repeat);
  const hash = source.hash.copy();
  for (let i = 1; i < repeat; i++) hashFileInto(hash, source.path);
  hash.update(trailer);
  return {
    source,
    repeat,
    trailer,
    size: source.size * repeat + trailer.length,
    digest: `sha256:${hash.digest('hex')}`,
  };
}

/** Stream bytes [start, end) of the payload, reading the file `bufferBytes` at a time. */
export function payloadStream(p: Payload, start = 0, end = p.size, bufferBytes = 4 * 1024 * 1024): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    const fileSize = p.source.size;
    for (let copy = 0; copy < p.repeat; copy++) {
      const segStart = copy * fileSize;
      const a = Math.max(start, segStart);
      const b = Math.min(end, segStart + fileSize);
      if (a >= b) continue;
      const rs = createReadStream(p.source.path, {
        start: a - segStart,
        end: b - segStart - 1,
        highWaterMark: bufferBytes,
      });
      for await (const chunk of rs) yield chunk as Buffer;
    }
    const tStart = p.repeat * fileSize;
    const a = Math.max(start, tStart);
    const b = Math.min(end, p.size);
    if (a < b) yield p.trailer.subarray(a - tStart, b - tStart);
  }
  return Readable.from(gen(), { objectMode: false, highWaterMark: bufferBytes });
}

/** A small random blob with its digest. */
export function smallBlob(size: number): { data: Buffer; digest: string } {
  const data = randomBytes(size);
  return { data, digest: `sha256:${createHash('sha256').update(data).digest('hex')}` };
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
