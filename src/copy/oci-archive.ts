/**
 * `oci-archive:FILE[:REF]`: a tar of an OCI image layout (oci-layout.ts says how REF picks the
 * image).
 *
 * As a source the tar is not extracted: its headers are indexed once (tar-index.ts) and every
 * blob is streamed from the file at its offset. As a destination the layout is written into a
 * temporary directory beside FILE, packed into FILE at commit() (a temporary file, then a rename)
 * and the directory removed; close() without commit leaves no FILE (and an existing FILE as it
 * was). As skopeo does, the archive written holds this copy's image only.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { LayoutDestination, LayoutSource, type LayoutFiles } from './oci-layout.ts';
import { TarIndex, packDirectory } from './tar-index.ts';
import type { BlobRef, ImageDestination, ImageSource, ManifestBytes } from './transport.ts';

/** A tar's files as a layout's. */
export function tarFiles(index: TarIndex, description: string): LayoutFiles {
  return {
    description,
    read: (path, limit) => index.readAll(path, limit, description),
    open: async (path, offset) => {
      const entry = index.find(path);
      return entry === undefined ? undefined : index.read(entry, offset);
    },
  };
}

function describe(file: string, ref: string | undefined): string {
  return `oci-archive:${file}${ref === undefined ? '' : `:${ref}`}`;
}

export async function ociArchiveSource(file: string, ref?: string): Promise<ImageSource> {
  const description = describe(file, ref);
  return new LayoutSource(tarFiles(await TarIndex.open(file, description), description), ref);
}

/** A scratch directory beside `file` (same filesystem, so nothing crosses devices on the way). */
export async function scratchBeside(file: string): Promise<string> {
  const dir = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.d`);
  await mkdir(dir, { recursive: false, mode: 0o700 });
  return dir;
}

/** A layout in a scratch directory, turned into an archive at commit(). */
export class ArchiveDestination implements ImageDestination {
  /**
   * The scratch layout, made once: the engine's parallel blobs all call open() before the first
   * mkdir has returned, and each must get this same layout (a second one would hold blobs that
   * commit() never packs).
   */
  private opening: Promise<LayoutDestination> | undefined;

  constructor(
    readonly file: string,
    readonly description: string,
    private readonly ref: string | undefined,
    /** Writes what the archive holds besides the layout (docker-archive: manifest.json), before packing. */
    private readonly finish: (layout: LayoutDestination) => Promise<void> = async () => {},
  ) {}

  protected open(): Promise<LayoutDestination> {
    this.opening ??= scratchBeside(this.file).then((scratch) => new LayoutDestination(scratch, this.description, this.ref));
    return this.opening;
  }

  async hasBlob(ref: BlobRef): Promise<boolean> {
    return (await this.open()).hasBlob(ref);
  }

  async putBlob(ref: BlobRef, openBody: (offset: number) => Promise<Readable>, sent: (bytes: number) => void): Promise<void> {
    return (await this.open()).putBlob(ref, openBody, sent);
  }

  async putManifest(manifest: ManifestBytes, tag: string | undefined): Promise<void> {
    return (await this.open()).putManifest(manifest, tag);
  }

  async commit(): Promise<void> {
    const layout = await this.open();
    await layout.commit();
    await this.finish(layout);
    await packDirectory(layout.dir, this.file);
    await this.close();
  }

  async close(): Promise<void> {
    const opening = this.opening;
    this.opening = undefined;
    // One still being made is waited for, so that close() leaves no directory behind.
    const layout = await opening?.catch(() => undefined);
    if (layout !== undefined) await rm(layout.dir, { recursive: true, force: true });
  }
}

export function ociArchiveDestination(file: string, ref?: string): ImageDestination {
  return new ArchiveDestination(file, describe(file, ref), ref);
}
