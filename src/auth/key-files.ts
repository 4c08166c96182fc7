/**
 * Signing keys as JWK files in a directory (mode 0700, files 0600), each written atomically and
 * fsynced: the key source of a single node (auth/keys.ts), beside its SQLite database. The
 * directory's mtime is its version, so a server notices `berth auth rotate-key` from the CLI.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SigningKeySource, StoredKey } from './keys.ts';

const SUFFIX = '.jwk.json';

export class KeyFiles implements SigningKeySource {
  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
  }

  async version(): Promise<string> {
    return String(fs.statSync(this.dir).mtimeMs);
  }

  async read(onBad: (name: string, err: Error) => void): Promise<StoredKey[]> {
    const keys: StoredKey[] = [];
    for (const f of fs.readdirSync(this.dir).filter((name) => name.endsWith(SUFFIX))) {
      try {
        keys.push(JSON.parse(fs.readFileSync(path.join(this.dir, f), 'utf8')) as StoredKey);
      } catch (err) {
        onBad(f, err as Error);
      }
    }
    return keys;
  }

  async add(kid: string, key: StoredKey): Promise<void> {
    writeAtomically(path.join(this.dir, `${kid}${SUFFIX}`), JSON.stringify(key));
  }

  async remove(kids: readonly string[]): Promise<void> {
    for (const kid of kids) fs.rmSync(path.join(this.dir, `${kid}${SUFFIX}`), { force: true });
  }
}

function writeAtomically(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dir = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
}
