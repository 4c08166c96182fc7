/**
 * Where an interrupted blob upload stands, so that the next copy continues it (issue 17): one small
 * JSON file per (registry, repository, digest), named by a hash of the three, mode 0600 in a
 * directory of mode 0700 (`~/.cache/berth/uploads/` by default). It holds the session's URL (the
 * registry's Location, the last one it gave) and how many bytes the registry had accepted;
 * never a credential. Written atomically (temporary file, then rename); removed once the blob is
 * committed. A file that cannot be read is treated as absent: the upload starts over.
 *
 * A copy killed while it saved leaves its temporary file (`<record>.<random>.tmp`); the record
 * beside it (the previous save) still resumes the upload, since the registry is asked where it
 * stands. remove() takes such leftovers of the same upload with the record, so they do not pile
 * up; a save whose temporary file was taken that way (another copy of the same blob finished
 * meanwhile) is dropped, not an error.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface UploadRecord {
  registry: string;
  repository: string;
  digest: string;
  /** The upload session's URL, absolute. */
  location: string;
  /** Bytes the registry had accepted when this was written. */
  offset: number;
}

export function defaultUploadStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env['XDG_CACHE_HOME'] !== undefined && env['XDG_CACHE_HOME'] !== '' ? env['XDG_CACHE_HOME'] : path.join(os.homedir(), '.cache');
  return path.join(cache, 'berth', 'uploads');
}

export class UploadStateDir {
  constructor(readonly dir: string = defaultUploadStateDir()) {}

  file(registry: string, repository: string, digest: string): string {
    const name = createHash('sha256').update(`${registry}\n${repository}\n${digest}`).digest('hex');
    return path.join(this.dir, `${name}.json`);
  }

  async load(registry: string, repository: string, digest: string): Promise<UploadRecord | undefined> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(this.file(registry, repository, digest), 'utf8'));
    } catch {
      return undefined;
    }
    const o = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    const { location, offset } = o;
    if (o['registry'] !== registry || o['repository'] !== repository || o['digest'] !== digest) return undefined;
    if (typeof location !== 'string' || !URL.canParse(location) || typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return undefined;
    return { registry, repository, digest, location, offset };
  }

  async save(record: UploadRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const target = this.file(record.registry, record.repository, record.digest);
    const tmp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, JSON.stringify(record), { mode: 0o600 });
    await rename(tmp, target).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** Removes the record and any temporary file a save of it left. */
  async remove(registry: string, repository: string, digest: string): Promise<void> {
    const target = this.file(registry, repository, digest);
    const prefix = `${path.basename(target)}.`;
    const names = await readdir(this.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
    const leftovers = names.filter((n) => n.startsWith(prefix) && n.endsWith('.tmp')).map((n) => path.join(this.dir, n));
    await Promise.all([target, ...leftovers].map((f) => rm(f, { force: true })));
  }
}
