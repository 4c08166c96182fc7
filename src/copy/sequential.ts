/**
 * Copying from a source read once, front to back (transport.ts SequentialSource: `docker save` as
 * the engine streams it). Each blob is stored as it arrives, one at a time (the stream gives one
 * at a time), so nothing of the image is kept on the way; one the destination has is skipped and
 * one an earlier image of the same run put in another repository of the same registry is mounted.
 * The manifests come at the end of the stream: they are put once every blob is in, the tag last.
 * An upload the destination can resume (an interrupted run) skips what it has of the stream.
 */
import { Readable, Transform } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { finished } from 'node:stream/promises';
import type { CopyObserver, CopyResult } from './engine.ts';
import { CopyError, type ImageDestination, type ManifestBytes, type SequentialSource } from './transport.ts';

export interface SequentialOptions {
  /** The tag the image is put under. */
  tag?: string;
  /** Digest -> repository of the same registry where this run put it already (filled as it goes). */
  mountable?: Map<string, string>;
  observer?: CopyObserver;
  signal?: AbortSignal;
}

/** `body` without its first `skip` bytes (what the destination has of an interrupted upload); `passed` counts what goes on. */
function skipping(body: Readable, skip: number, passed: (n: number) => void): Readable {
  let left = skip;
  const cut = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (left >= chunk.length) {
        left -= chunk.length;
        done();
        return;
      }
      const rest = chunk.subarray(left);
      left = 0;
      passed(rest.length);
      done(null, rest);
    },
  });
  body.on('error', (err) => cut.destroy(err));
  return body.pipe(cut);
}

/** Blobs this small are read whole first, in case they are the image's config. */
const CONFIG_MAX = 4 * 1024 * 1024;

/** The layer digests an image config names (rootfs.diff_ids), or undefined when `bytes` is not a config. */
function diffIdsOf(bytes: Buffer): string[] | undefined {
  try {
    const json = JSON.parse(bytes.toString('utf8')) as { rootfs?: { diff_ids?: unknown } };
    const ids = json.rootfs?.diff_ids;
    return Array.isArray(ids) && ids.every((d) => typeof d === 'string' && /^sha256:[0-9a-f]{64}$/.test(d)) ? (ids as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** Copy the one image a sequential source holds to `dst`. */
export async function copySequential(src: SequentialSource, dst: ImageDestination, opts: SequentialOptions = {}): Promise<CopyResult> {
  const result: Omit<CopyResult, 'digest' | 'mediaType'> = { images: 0, blobs: { copied: 0, skipped: 0, mounted: 0 }, bytes: 0 };
  const { observer, signal } = opts;
  const seen = new Set<string>();
  let top: ManifestBytes | undefined;
  /** Whether every layer the image's config names is at the destination (legacy layers are then not sent). */
  let layersAllThere = false;
  for await (const entry of src.entries()) {
    signal?.throwIfAborted();
    if (entry.kind === 'blob') {
      const { ref } = entry;
      let { body } = entry;
      if (ref.size <= CONFIG_MAX) {
        // Small enough to be an image config: a legacy save's comes before its layers, and names them.
        const bytes = await buffer(body);
        body = Readable.from([bytes]);
        const layers = diffIdsOf(bytes);
        if (layers !== undefined) layersAllThere = layers.length > 0 && (await Promise.all(layers.map((digest) => dst.hasBlob({ digest, size: 0 })))).every(Boolean);
      }
      if (seen.has(ref.digest) || (await dst.hasBlob(ref))) {
        body.resume();
        await finished(body);
        if (!seen.has(ref.digest)) {
          result.blobs.skipped++;
          observer?.blobDone?.(ref, 'skipped');
        }
        seen.add(ref.digest);
        continue;
      }
      seen.add(ref.digest);
      const from = opts.mountable?.get(ref.digest);
      if (from !== undefined && dst.mountBlob !== undefined && (await dst.mountBlob(ref, from))) {
        body.resume();
        await finished(body);
        result.blobs.mounted++;
        observer?.blobDone?.(ref, 'mounted');
        continue;
      }
      observer?.blobStart?.(ref);
      let opened = false;
      await dst.putBlob(
        ref,
        async (offset) => {
          // The stream goes by once: a destination's retry cannot read it again.
          if (opened) throw new CopyError('BERTH_COPY_STREAM_ONCE', `blob ${ref.digest} of ${src.description} failed on its way and the stream cannot be read again: run the command again (it continues the upload)`);
          opened = true;
          return skipping(body, offset, (n) => (result.bytes += n));
        },
        (n) => observer?.blobBytes?.(ref, n),
      );
      if (dst.registry !== undefined) opts.mountable?.set(ref.digest, dst.registry.repository);
      result.blobs.copied++;
      observer?.blobDone?.(ref, 'copied');
      continue;
    }
    if (entry.kind === 'unnamed-blob') {
      // Named only once it went by: it cannot be looked for first, unless every layer its image's
      // config names is there already (the image pushed before): then none needs sending.
      if (layersAllThere) {
        entry.body.resume();
        await finished(entry.body);
        const digest = await entry.digest;
        if (!seen.has(digest)) {
          result.blobs.skipped++;
          observer?.blobDone?.({ digest, size: entry.size }, 'skipped');
        }
        seen.add(digest);
        continue;
      }
      if (dst.putUnnamedBlob === undefined) throw new CopyError('BERTH_COPY_UNSUPPORTED', `${dst.description} cannot take a blob named only after its bytes (${src.description} is a legacy docker save)`);
      const pending = { digest: 'sha256:(hashing)', size: entry.size };
      observer?.blobStart?.(pending);
      const stored = await dst.putUnnamedBlob(entry.size, entry.body, entry.digest, (n) => {
        result.bytes += n;
        observer?.blobBytes?.(pending, n);
      });
      seen.add(stored.digest);
      if (dst.registry !== undefined) opts.mountable?.set(stored.digest, dst.registry.repository);
      result.blobs.copied++;
      observer?.blobDone?.(pending, 'copied');
      continue;
    }
    const [image, ...more] = entry.images;
    if (image === undefined) throw new CopyError('BERTH_COPY_EMPTY', `${src.description} holds no image`);
    if (more.length > 0) throw new CopyError('BERTH_COPY_SEVERAL', `${src.description} holds ${entry.images.length} images: export them one at a time`);
    for (const child of image.children) {
      await dst.putManifest(child, undefined);
      observer?.manifestDone?.(child, undefined);
      result.images++;
    }
    await dst.putManifest(image.manifest, opts.tag);
    observer?.manifestDone?.(image.manifest, opts.tag);
    if (image.children.length === 0) result.images++;
    top = image.manifest;
  }
  if (top === undefined) throw new CopyError('BERTH_COPY_EMPTY', `${src.description} ended before it named its image (no manifest.json)`);
  await dst.commit();
  return { digest: top.digest, mediaType: top.mediaType, ...result };
}
