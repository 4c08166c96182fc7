/**
 * Secrets berth keeps for its own use: build rules' secrets (a Git token or SSH deploy key, the
 * webhook's secret) and replication rules' remote passwords, sealed with AES-256-GCM before they
 * are stored: the API, the CLI, logs and exports of the tables never hold them in the clear. The
 * key is berth's own, kept where the token signing keys are: a file beside the SQLite database
 * (FileSealingKey), or a row PostgreSQL shares among nodes (meta/postgres/sealing-key.ts). A copy
 * of the database together with that key opens them.
 *
 * Sealed text: `v1:` + base64url(12-byte IV | 16-byte tag | ciphertext). The additional data
 * binds a sealed value to its rule and field, so it cannot be moved to another rule and opened there.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PREFIX = 'v1:';

/** Where the sealing key comes from: created once, the same ever after (and on every node). */
export interface SealingKeySource {
  /** The 32-byte key, created if there is none yet. */
  key(): Promise<Buffer>;
}

/** Raised when a sealed value cannot be opened (another key, tampered, or moved to another rule). */
export class SealedSecretError extends Error {
  readonly code = 'BERTH_SEALED_SECRET';
}

export function newSealingKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

export class SecretBox {
  private cached: Promise<Buffer> | undefined;

  constructor(private readonly source: SealingKeySource) {}

  private key(): Promise<Buffer> {
    this.cached ??= this.source.key().then((key) => {
      if (key.length !== KEY_BYTES) throw new Error(`the build secrets key has ${key.length} bytes, not ${KEY_BYTES}`);
      return key;
    });
    return this.cached;
  }

  async seal(aad: string, plaintext: string): Promise<string> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', await this.key(), iv);
    cipher.setAAD(Buffer.from(aad));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  async open(aad: string, sealed: string): Promise<string> {
    if (!sealed.startsWith(PREFIX)) throw new SealedSecretError('not a sealed secret');
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new SealedSecretError('a sealed secret too short to open');
    const decipher = createDecipheriv('aes-256-gcm', await this.key(), raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SealedSecretError('a sealed secret did not open: another key, or it was changed or moved');
    }
  }
}

/** The file of the key in a key directory (auth/setup.ts keyDirectory: beside the token signing keys). */
export const SEALING_KEY_FILE = 'build-secrets.key';

/**
 * The key as a file (0600) in `dir` (0700), created with O_EXCL and fsynced on first use, so that
 * two processes starting at once end with the same key.
 */
export class FileSealingKey implements SealingKeySource {
  constructor(private readonly dir: string) {}

  async key(): Promise<Buffer> {
    const file = path.join(this.dir, SEALING_KEY_FILE);
    try {
      return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64url');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, newSealingKey().toString('base64url'));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      fs.linkSync(tmp, file); // fails if another process made it first: theirs is the key
      const dirFd = fs.openSync(this.dir, 'r');
      try {
        fs.fsyncSync(dirFd);
      } finally {
        fs.closeSync(dirFd);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64url');
  }
}

/** A key held in memory only (an in-memory registry: its rules are gone on restart too). */
export class MemorySealingKey implements SealingKeySource {
  private readonly value = newSealingKey();

  async key(): Promise<Buffer> {
    return this.value;
  }
}
