/**
 * distribution's `auth.htpasswd`: an Apache htpasswd file of bcrypt entries (`htpasswd -B`).
 * Re-read when its modification time or size changes, so adding a user needs no restart.
 * Entries in other formats (MD5, SHA1, crypt) are refused with a warning, as distribution does.
 */
import fs from 'node:fs';
import type { Logger } from 'pino';

interface Loaded {
  mtimeMs: number;
  size: number;
  entries: Map<string, string>;
}

export class HtpasswdFile {
  private loaded: Loaded | undefined;
  private checkedAt = 0;

  constructor(
    readonly path: string,
    private readonly log?: Logger,
    /** How often (ms) the file's mtime is checked at most. */
    private readonly recheckMs = 1000,
  ) {}

  /** The bcrypt hash of a user, or undefined. */
  lookup(user: string): string | undefined {
    return this.current().get(user);
  }

  has(user: string): boolean {
    return this.current().has(user);
  }

  private current(): Map<string, string> {
    const now = Date.now();
    if (this.loaded !== undefined && now - this.checkedAt < this.recheckMs) return this.loaded.entries;
    this.checkedAt = now;
    let stat: fs.Stats;
    try {
      stat = fs.statSync(this.path);
    } catch (err) {
      if (this.loaded === undefined) this.log?.warn({ path: this.path, err: (err as Error).message }, 'htpasswd file unreadable: no htpasswd users');
      this.loaded = { mtimeMs: 0, size: 0, entries: new Map() };
      return this.loaded.entries;
    }
    if (this.loaded !== undefined && this.loaded.mtimeMs === stat.mtimeMs && this.loaded.size === stat.size) return this.loaded.entries;
    const entries = parseHtpasswd(fs.readFileSync(this.path, 'utf8'), (line, reason) => this.log?.warn({ path: this.path, line }, `htpasswd: ${reason}`));
    if (this.loaded !== undefined) this.log?.info({ path: this.path, users: entries.size }, 'htpasswd file reloaded');
    this.loaded = { mtimeMs: stat.mtimeMs, size: stat.size, entries };
    return entries;
  }
}

/** user -> bcrypt hash; lines that are blank or comments are skipped, others reported. */
export function parseHtpasswd(text: string, warn: (line: number, reason: string) => void = () => {}): Map<string, string> {
  const entries = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon <= 0) return warn(i + 1, 'not a user:hash line, skipped');
    const hash = line.slice(colon + 1);
    if (!/^\$2[abxy]\$\d\d\$/.test(hash)) return warn(i + 1, 'only bcrypt entries (htpasswd -B) are supported, skipped');
    entries.set(line.slice(0, colon), hash);
  });
  return entries;
}
