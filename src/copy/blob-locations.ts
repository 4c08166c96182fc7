/**
 * Where a registry is known to hold each blob: the repositories a copy saw it in (there already,
 * sent, or mounted). A later copy to another repository of that registry mounts the blob from one
 * of them instead of sending it again, as skopeo's blob-info cache lets it do. One JSON file per
 * registry host under `~/.cache/berth/blob-locations/` (`$XDG_CACHE_HOME`), 0600, no credentials:
 * blob digests and repository names only. A stale entry costs one refused mount (the blob is then
 * sent); two copies writing at once lose at most the other's notes.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Digests kept per registry (the oldest noted go first), and repositories kept per digest. */
const MAX_DIGESTS = 20_000;
const MAX_REPOSITORIES = 3;

export function defaultBlobLocationsDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env['XDG_CACHE_HOME'] !== undefined && env['XDG_CACHE_HOME'] !== '' ? env['XDG_CACHE_HOME'] : path.join(os.homedir(), '.cache');
  return path.join(cache, 'berth', 'blob-locations');
}

export class BlobLocations {
  private readonly hosts = new Map<string, Promise<Map<string, string[]>>>();
  private readonly dirty = new Set<string>();

  constructor(readonly dir: string = defaultBlobLocationsDir()) {}

  private file(host: string): string {
    return path.join(this.dir, `${createHash('sha256').update(host).digest('hex')}.json`);
  }

  private of(host: string): Promise<Map<string, string[]>> {
    let loaded = this.hosts.get(host);
    if (loaded === undefined) {
      loaded = readFile(this.file(host), 'utf8').then(
        (text) => {
          const parsed = JSON.parse(text) as unknown;
          const map = new Map<string, string[]>();
          if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
            for (const [digest, repos] of Object.entries(parsed as Record<string, unknown>)) {
              if (/^sha256:[0-9a-f]{64}$/.test(digest) && Array.isArray(repos)) map.set(digest, repos.filter((r): r is string => typeof r === 'string').slice(0, MAX_REPOSITORIES));
            }
          }
          return map;
        },
        () => new Map<string, string[]>(),
      );
      this.hosts.set(host, loaded);
    }
    return loaded;
  }

  /** Repositories of `host` known to hold `digest`, but `except`. */
  async where(host: string, digest: string, except: string): Promise<string[]> {
    return ((await this.of(host)).get(digest) ?? []).filter((r) => r !== except);
  }

  /** `host`'s `repository` holds `digest` now. */
  async note(host: string, digest: string, repository: string): Promise<void> {
    const map = await this.of(host);
    const repos = [repository, ...(map.get(digest) ?? []).filter((r) => r !== repository)].slice(0, MAX_REPOSITORIES);
    map.delete(digest);
    map.set(digest, repos);
    while (map.size > MAX_DIGESTS) map.delete(map.keys().next().value as string);
    this.dirty.add(host);
  }

  /** Write what was noted (atomically, a file per host). */
  async save(): Promise<void> {
    if (this.dirty.size === 0) return;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (const host of [...this.dirty]) {
      const map = await this.of(host);
      const file = this.file(host);
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(Object.fromEntries(map)), { mode: 0o600 });
      await rename(tmp, file);
      this.dirty.delete(host);
    }
  }
}
