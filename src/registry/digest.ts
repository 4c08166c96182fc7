/** Hashing of content into digests, streaming or whole. */
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { DigestAlgorithm } from './reference.ts';

export function digestOf(content: Buffer, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(content).digest('hex')}`;
}

export function newHash(algorithm: DigestAlgorithm = 'sha256'): Hash {
  return createHash(algorithm);
}

/** Digest of a whole stream (used to re-hash an upload whose hash state is unknown: lost from memory, or never saved). */
export async function digestOfStream(stream: Readable, algorithm: DigestAlgorithm): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return `${algorithm}:${hash.digest('hex')}`;
}
