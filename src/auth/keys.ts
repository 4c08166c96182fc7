/**
 * The token signing keys: ES256 (P-256) key pairs kept as JWK files in a directory of the root
 * directory (mode 0600), created on first start. The newest key signs; every key in the
 * directory verifies, so `berth auth rotate-key` never cuts off tokens already handed out, and
 * `--prune` drops old keys once their tokens have expired. Public keys are published as a JWKS.
 * A running server notices keys added by the CLI: it re-reads the directory when it changes.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, importJWK, type CryptoKey, type JWK } from 'jose';

export const SIGNING_ALGORITHM = 'ES256';

export interface SigningKey {
  kid: string;
  createdAt: number;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

interface KeyFile {
  createdAt: number;
  jwk: JWK;
}

async function generate(): Promise<{ kid: string; file: KeyFile }> {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y });
  return { kid, file: { createdAt: Date.now(), jwk: { ...jwk, kid, alg: SIGNING_ALGORITHM, use: 'sig' } } };
}

async function load(file: KeyFile): Promise<SigningKey> {
  const pub: JWK = { kty: file.jwk.kty, crv: file.jwk.crv, x: file.jwk.x, y: file.jwk.y };
  const kid = file.jwk.kid ?? (await calculateJwkThumbprint(pub));
  const publicJwk: JWK = { ...pub, kid, alg: SIGNING_ALGORITHM, use: 'sig' };
  return {
    kid,
    createdAt: file.createdAt,
    privateKey: (await importJWK(file.jwk, SIGNING_ALGORITHM)) as CryptoKey,
    publicKey: (await importJWK(publicJwk, SIGNING_ALGORITHM)) as CryptoKey,
    publicJwk,
  };
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

export class SigningKeys {
  private keys: SigningKey[] = [];
  private dirMtime = -1;
  private checkedAt = 0;

  /** Bumped whenever the set of keys changes (verified tokens are forgotten then). */
  generation = 0;

  /** `dir` undefined: keys live in memory only (an in-memory registry). */
  private constructor(
    private readonly dir: string | undefined,
    private readonly onBadFile?: (file: string, err: Error) => void,
  ) {}

  /** Open the key directory, creating it and a first key when there is none. Damaged key files are reported and skipped. */
  static async open(dir: string | undefined, onBadFile?: (file: string, err: Error) => void): Promise<SigningKeys> {
    const keys = new SigningKeys(dir, onBadFile);
    if (dir !== undefined) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      fs.chmodSync(dir, 0o700);
    }
    await keys.reload();
    if (keys.keys.length === 0) await keys.rotate();
    return keys;
  }

  /** The key that signs new tokens: the newest. */
  get current(): SigningKey {
    const key = this.keys[0];
    if (key === undefined) throw new Error('no signing key');
    return key;
  }

  find(kid: string): SigningKey | undefined {
    return this.keys.find((k) => k.kid === kid);
  }

  list(): readonly SigningKey[] {
    return this.keys;
  }

  /** The public keys, for /auth/jwks.json. */
  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  /** Add a new key, which signs from now on. */
  async rotate(): Promise<SigningKey> {
    const { kid, file } = await generate();
    if (this.dir !== undefined) writeAtomically(path.join(this.dir, `${kid}.jwk.json`), JSON.stringify(file));
    const key = await load(file);
    this.keys = [key, ...this.keys.filter((k) => k.kid !== kid)];
    this.generation++;
    this.dirMtime = -1;
    return key;
  }

  /** Remove all but the newest `keep` keys. */
  prune(keep: number): string[] {
    const removed = this.keys.slice(Math.max(1, keep));
    for (const k of removed) if (this.dir !== undefined) fs.rmSync(path.join(this.dir, `${k.kid}.jwk.json`), { force: true });
    this.keys = this.keys.slice(0, Math.max(1, keep));
    this.generation++;
    return removed.map((k) => k.kid);
  }

  /** Re-read the directory if it changed (checked at most once a second). */
  async refresh(): Promise<void> {
    if (this.dir === undefined) return;
    const now = Date.now();
    if (now - this.checkedAt < 1000) return;
    this.checkedAt = now;
    const mtime = fs.statSync(this.dir).mtimeMs;
    if (mtime !== this.dirMtime) await this.reload();
  }

  private async reload(): Promise<void> {
    if (this.dir === undefined) return;
    this.dirMtime = fs.statSync(this.dir).mtimeMs;
    const files = fs.readdirSync(this.dir).filter((f) => f.endsWith('.jwk.json'));
    const loaded: SigningKey[] = [];
    for (const f of files) {
      try {
        loaded.push(await load(JSON.parse(fs.readFileSync(path.join(this.dir, f), 'utf8')) as KeyFile));
      } catch (err) {
        // One damaged file must not stop the others from signing and verifying.
        this.onBadFile?.(f, err as Error);
      }
    }
    this.keys = loaded.sort((a, b) => b.createdAt - a.createdAt || a.kid.localeCompare(b.kid));
    this.generation++;
  }
}
