/**
 * Reading a distribution (registry:2) storage root, as written by its filesystem driver:
 *
 *   docker/registry/v2/blobs/sha256/<xx>/<hex>/data
 *   docker/registry/v2/repositories/<name>/_layers/sha256/<hex>/link
 *   docker/registry/v2/repositories/<name>/_manifests/revisions/sha256/<hex>/link
 *   docker/registry/v2/repositories/<name>/_manifests/tags/<tag>/current/link
 *   docker/registry/v2/repositories/<name>/_uploads/<uuid>/...
 *
 * The tree is input, not trusted: every path read is resolved first and must stay inside ROOT (a
 * symbolic link out of it is refused), files are opened with O_NOFOLLOW and must be regular
 * files, link files must hold a sha256 digest and nothing else (and, for layers and revisions,
 * the digest their directory names), repository names and tags must pass berth's grammar, and
 * every storage path is built from a validated digest only. What fails is reported as a Skip, never
 * imported; nothing here writes.
 */
import { constants } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import nodePath from 'node:path';
import { isTag, isValidName } from '../../registry/reference.ts';

/** Something left out of the import, and why (printed in the summary). */
export interface Skip {
  kind: 'repository' | 'tag' | 'manifest' | 'blob' | 'path';
  name: string;
  reason: string;
}

/** Input the import refuses to read: a path leading out of ROOT, a file that is not one, garbage. */
export class ImportRefusedError extends Error {
  readonly code = 'BERTH_IMPORT_REFUSED';
  override readonly name = 'ImportRefusedError';
}

export interface SourceRevision {
  digest: string;
  /** When the revision's link was written: the manifest's push in the source (ms since epoch). */
  pushedAt: number;
}

export interface SourceRepository {
  name: string;
  /** Digests of the repository's `_layers` links. */
  layers: string[];
  revisions: SourceRevision[];
  tags: { tag: string; digest: string }[];
  /** Upload sessions left in `_uploads` (never imported). */
  uploads: number;
}

/** A blob's data file, open for reading; the holder closes it. */
export interface OpenBlob {
  handle: FileHandle;
  /** The file's resolved path (inside ROOT, no symbolic link in it). */
  path: string;
  size: number;
  dev: number;
  ino: number;
}

const HEX = /^[a-f0-9]{64}$/;
const LINK = /^sha256:([a-f0-9]{64})$/;
/** A link file holds `sha256:` and 64 hex digits; anything much longer is garbage. */
const LINK_LIMIT = 256;
/** Deeper than this, a repositories tree is not one distribution wrote. */
const MAX_DEPTH = 32;
const MARKERS = new Set(['_manifests', '_layers', '_uploads']);

function errno(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function missing(err: unknown): boolean {
  return errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR';
}

/** A name for messages: quoted, control characters escaped. */
export function shown(text: string): string {
  return JSON.stringify(text);
}

export class Registry2Root {
  private constructor(
    /** The `docker/registry/v2` directory, resolved. */
    readonly dir: string,
    /** ROOT as given, for messages. */
    readonly given: string,
  ) {}

  /** ROOT may be distribution's rootdirectory or its docker/registry/v2 directory. */
  static async open(root: string): Promise<Registry2Root> {
    let real: string;
    try {
      real = await fs.realpath(root);
    } catch {
      throw new Error(`${root}: no such directory`);
    }
    for (const candidate of [nodePath.join(real, 'docker', 'registry', 'v2'), real]) {
      const children = await fs.readdir(candidate).catch(() => [] as string[]);
      if (children.includes('repositories') || children.includes('blobs')) return new Registry2Root(await fs.realpath(candidate), root);
    }
    throw new Error(`${root} is not a registry:2 root: no docker/registry/v2/repositories or blobs in it`);
  }

  /** The path inside ROOT that `path` resolves to; undefined when nothing is there; a refusal when it leads outside. */
  private async resolve(path: string): Promise<string | undefined> {
    let real: string;
    try {
      real = await fs.realpath(path);
    } catch (err) {
      if (missing(err) || errno(err) === 'ELOOP') return undefined;
      throw err;
    }
    if (real !== this.dir && !real.startsWith(this.dir + nodePath.sep)) {
      throw new ImportRefusedError(`${this.relative(path)} is a symbolic link to ${real}, outside ROOT: refused`);
    }
    return real;
  }

  /** A path for messages, relative to ROOT's docker/registry/v2. */
  relative(path: string): string {
    return nodePath.relative(this.dir, path) || '.';
  }

  /** Open a regular file inside ROOT (never through a symbolic link at its end); undefined when absent. */
  private async openFile(path: string): Promise<{ handle: FileHandle; real: string; size: number; dev: number; ino: number } | undefined> {
    const real = await this.resolve(path);
    if (real === undefined) return undefined;
    let handle: FileHandle;
    try {
      handle = await fs.open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      if (missing(err)) return undefined;
      if (errno(err) === 'ELOOP') throw new ImportRefusedError(`${this.relative(path)} changed into a symbolic link while being read: refused`);
      throw err;
    }
    const info = await handle.stat();
    if (!info.isFile()) {
      await handle.close();
      throw new ImportRefusedError(`${this.relative(path)} is not a regular file: refused`);
    }
    return { handle, real, size: info.size, dev: info.dev, ino: info.ino };
  }

  /** The bytes of a small file inside ROOT (at most `limit`), or undefined when absent. */
  async readSmall(path: string, limit: number): Promise<Buffer | undefined> {
    const file = await this.openFile(path);
    if (file === undefined) return undefined;
    try {
      if (file.size > limit) throw new ImportRefusedError(`${this.relative(path)} holds ${file.size} bytes, more than the ${limit} expected: refused`);
      return await file.handle.readFile();
    } finally {
      await file.handle.close();
    }
  }

  /** The digest a link file names; undefined when the file is absent (deleted in the source). */
  async readLink(path: string): Promise<string | undefined> {
    const bytes = await this.readSmall(path, LINK_LIMIT);
    if (bytes === undefined) return undefined;
    const match = LINK.exec(bytes.toString('latin1').trim());
    if (match === null) throw new ImportRefusedError(`${this.relative(path)} holds garbage, not a sha256 digest: refused`);
    return `sha256:${match[1]}`;
  }

  private blobFile(hex: string): string {
    if (!HEX.test(hex)) throw new ImportRefusedError(`not a sha256 digest: ${shown(hex)}`);
    return nodePath.join(this.dir, 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
  }

  /** A blob's data file, open; undefined when the source has none. */
  async openBlob(hex: string): Promise<OpenBlob | undefined> {
    const file = await this.openFile(this.blobFile(hex));
    return file && { handle: file.handle, path: file.real, size: file.size, dev: file.dev, ino: file.ino };
  }

  /** The size of a blob's data file without opening it (for the progress total); 0 when absent or refused. */
  async blobSize(hex: string): Promise<number> {
    return fs.stat(this.blobFile(hex)).then(
      (s) => (s.isFile() ? s.size : 0),
      () => 0,
    );
  }

  /** A blob's bytes, when it is no larger than `limit` (manifests). */
  async readBlob(hex: string, limit: number): Promise<Buffer | undefined> {
    return this.readSmall(this.blobFile(hex), limit);
  }

  /** The device the source's files are on (to tell whether a hard link can reach berth's storage). */
  async device(): Promise<number> {
    return (await fs.stat(this.dir)).dev;
  }

  /** Every repository under repositories/, in name order; what cannot be read is reported in `skips`. */
  async repositories(skips: Skip[]): Promise<SourceRepository[]> {
    const out: SourceRepository[] = [];
    const top = nodePath.join(this.dir, 'repositories');
    const seen = new Set<string>([top]);
    await this.walk(top, [], out, skips, seen);
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private async walk(dir: string, parts: string[], out: SourceRepository[], skips: Skip[], seen: Set<string>): Promise<void> {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch((err: unknown) => {
      if (missing(err)) return [];
      throw err;
    });
    const name = parts.join('/');
    if (entries.some((e) => MARKERS.has(e.name))) {
      if (isValidName(name)) out.push(await this.readRepository(dir, name, skips));
      else skips.push({ kind: 'repository', name: shown(name), reason: 'not a valid repository name: refused' });
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name.startsWith('_') || !(entry.isDirectory() || entry.isSymbolicLink())) continue;
      const path = nodePath.join(dir, entry.name);
      if (parts.length >= MAX_DEPTH) {
        skips.push({ kind: 'path', name: [...parts, entry.name].join('/'), reason: `${this.relative(path)} is nested deeper than ${MAX_DEPTH} levels: not read` });
        continue;
      }
      let real: string | undefined;
      try {
        real = entry.isSymbolicLink() ? await this.resolve(path) : path;
      } catch (err) {
        if (!(err instanceof ImportRefusedError)) throw err;
        skips.push({ kind: 'path', name: [...parts, entry.name].join('/'), reason: err.message });
        continue;
      }
      if (real === undefined || seen.has(real) || !(await fs.stat(real)).isDirectory()) continue;
      seen.add(real);
      await this.walk(real, [...parts, entry.name], out, skips, seen);
    }
  }

  /** The names in a directory inside ROOT, sorted; [] when it is absent or refused (reported). */
  private async list(dir: string, repo: string, skips: Skip[]): Promise<string[]> {
    try {
      const real = await this.resolve(dir);
      return real === undefined ? [] : (await fs.readdir(real)).sort();
    } catch (err) {
      if (missing(err)) return [];
      if (!(err instanceof ImportRefusedError)) throw err;
      skips.push({ kind: 'path', name: repo, reason: err.message });
      return [];
    }
  }

  /** The `<hex>/link` digests under a `sha256` directory, each checked against its directory's name. */
  private async hexLinks(dir: string, repo: string, skips: Skip[]): Promise<{ digest: string; mtimeMs: number }[]> {
    const names = await this.list(dir, repo, skips);
    const found: { digest: string; mtimeMs: number }[] = [];
    for (const hex of names) {
      const link = nodePath.join(dir, hex, 'link');
      try {
        if (!HEX.test(hex)) throw new ImportRefusedError(`${this.relative(nodePath.join(dir, hex))} is not named by a sha256 digest: refused`);
        const digest = await this.readLink(link);
        if (digest === undefined) continue; // deleted in the source: distribution removes the link, keeps the directory
        if (digest !== `sha256:${hex}`) throw new ImportRefusedError(`${this.relative(link)} names ${digest}, not its directory's digest: refused`);
        found.push({ digest, mtimeMs: (await fs.stat(link)).mtimeMs });
      } catch (err) {
        if (!(err instanceof ImportRefusedError)) throw err;
        skips.push({ kind: 'path', name: repo, reason: err.message });
      }
    }
    return found;
  }

  private async readRepository(dir: string, name: string, skips: Skip[]): Promise<SourceRepository> {
    const layers = await this.hexLinks(nodePath.join(dir, '_layers', 'sha256'), name, skips);
    const revisions = await this.hexLinks(nodePath.join(dir, '_manifests', 'revisions', 'sha256'), name, skips);
    const tags: SourceRepository['tags'] = [];
    const tagsDir = nodePath.join(dir, '_manifests', 'tags');
    for (const tag of await this.list(tagsDir, name, skips)) {
      if (!isTag(tag)) {
        skips.push({ kind: 'tag', name: `${name}:${shown(tag)}`, reason: 'not a valid tag: refused' });
        continue;
      }
      try {
        const digest = await this.readLink(nodePath.join(tagsDir, tag, 'current', 'link'));
        if (digest !== undefined) tags.push({ tag, digest });
      } catch (err) {
        if (!(err instanceof ImportRefusedError)) throw err;
        skips.push({ kind: 'tag', name: `${name}:${tag}`, reason: err.message });
      }
    }
    const uploads = (await this.list(nodePath.join(dir, '_uploads'), name, skips)).length;
    return {
      name,
      layers: layers.map((l) => l.digest),
      revisions: revisions.map((r) => ({ digest: r.digest, pushedAt: Math.floor(r.mtimeMs) })),
      tags,
      uploads,
    };
  }

  /** How many blobs the source holds that no repository references (garbage registry:2's garbage-collect would remove). */
  async unreferencedBlobs(referenced: ReadonlySet<string>): Promise<number> {
    const top = nodePath.join(this.dir, 'blobs', 'sha256');
    let count = 0;
    for (const prefix of await fs.readdir(top).catch(() => [] as string[])) {
      for (const hex of await fs.readdir(nodePath.join(top, prefix)).catch(() => [] as string[])) {
        if (HEX.test(hex) && !referenced.has(`sha256:${hex}`)) count++;
      }
    }
    return count;
  }
}
