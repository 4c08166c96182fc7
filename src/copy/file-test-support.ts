/**
 * For the file transports' tests: a minimal copy between an ImageSource and an ImageDestination
 * (what the engine does, without its parallelism, retries and progress), so that the transports
 * are tested on their own, and small helpers around skopeo and directories.
 */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobRef, ImageDestination, ImageSource, ManifestBytes } from './transport.ts';

export async function digestStream(stream: Readable): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

interface Parsed {
  config?: BlobRef;
  layers?: BlobRef[];
  manifests?: BlobRef[];
}

/** Every manifest of the source's image (children first, then the top) and every blob they name. */
export async function readImage(src: ImageSource): Promise<{ top: ManifestBytes; children: ManifestBytes[]; blobs: BlobRef[] }> {
  const top = await src.manifest();
  const parsed = JSON.parse(top.bytes.toString('utf8')) as Parsed;
  const children: ManifestBytes[] = [];
  for (const child of parsed.manifests ?? []) children.push(await src.childManifest(child.digest));
  const blobs = new Map<string, BlobRef>();
  for (const m of children.length > 0 ? children : [top]) {
    const p = JSON.parse(m.bytes.toString('utf8')) as Parsed;
    for (const ref of [...(p.config === undefined ? [] : [p.config]), ...(p.layers ?? [])]) blobs.set(ref.digest, ref);
  }
  return { top, children, blobs: [...blobs.values()] };
}

/** Copies the source's image into the destination and commits it; returns the top manifest. */
export async function copyInto(src: ImageSource, dst: ImageDestination, tag: string | undefined): Promise<ManifestBytes> {
  try {
    const { top, children, blobs } = await readImage(src);
    for (const ref of blobs) {
      if (await dst.hasBlob(ref)) continue;
      await dst.putBlob(ref, (offset) => src.blob(ref, offset), () => {});
    }
    for (const child of children) await dst.putManifest(child, undefined);
    await dst.putManifest(top, tag);
    await dst.commit();
    return top;
  } finally {
    await dst.close();
    await src.close();
  }
}

/** Checks every blob the source names against its digest and size; returns how many. */
export async function verifyBlobs(src: ImageSource): Promise<number> {
  const { blobs } = await readImage(src);
  for (const ref of blobs) {
    const got = await digestStream(await src.blob(ref));
    if (got.digest !== ref.digest || got.size !== ref.size) throw new Error(`blob ${ref.digest} (${ref.size}) read as ${got.digest} (${got.size})`);
  }
  return blobs.length;
}

/** Every file under `dir`, relative. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() || entry.isSymbolicLink()) out.push(relative(dir, join(entry.parentPath, entry.name)));
  }
  return out.sort();
}
