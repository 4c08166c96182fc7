/**
 * The token signing keys: ES256 (P-256) key pairs, created on first start, kept by a key source:
 * JWK files in a directory beside the SQLite database (key-files.ts), or a table of the
 * PostgreSQL database so that every node signs and verifies with the same keys
 * (meta/postgres/signing-keys.ts); in memory for an in-memory registry. The newest key signs;
 * every key verifies, so `berth auth rotate-key` never cuts off tokens already handed out, and
 * `--prune` drops old keys once their tokens have expired. Public keys are published as a JWKS.
 * A running server notices keys added elsewhere (the CLI, another node): it re-reads the source
 * when its version changes (checked at most once a second).
 */
import crypto from 'node:crypto';
import { calculateJwkThumbprint, importJWK, type CryptoKey, type JWK } from 'jose';

export const SIGNING_ALGORITHM = 'ES256';

export interface SigningKey {
  kid: string;
  createdAt: number;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

/** A key as a source keeps it: the private JWK (with its kid) and when it was made. */
export interface StoredKey {
  createdAt: number;
  jwk: JWK;
}

/** Where the keys are kept. */
export interface SigningKeySource {
  /** A value that changes whenever a key is added or removed; cheap to ask. */
  version(): Promise<string>;
  /** Every key; one that cannot be read is reported by name and skipped. */
  read(onBad: (name: string, err: Error) => void): Promise<StoredKey[]>;
  add(kid: string, key: StoredKey): Promise<void>;
  remove(kids: readonly string[]): Promise<void>;
}

async function generate(): Promise<{ kid: string; file: StoredKey }> {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y });
  return { kid, file: { createdAt: Date.now(), jwk: { ...jwk, kid, alg: SIGNING_ALGORITHM, use: 'sig' } } };
}

async function load(file: StoredKey): Promise<SigningKey> {
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

export class SigningKeys {
  private keys: SigningKey[] = [];
  private seenVersion: string | undefined;
  private checkedAt = 0;

  /** Bumped whenever the set of keys changes (verified tokens are forgotten then). */
  generation = 0;

  /** `source` undefined: keys live in memory only (an in-memory registry). */
  private constructor(
    private readonly source: SigningKeySource | undefined,
    private readonly onBad?: (name: string, err: Error) => void,
  ) {}

  /** Open the source, adding a first key when it holds none. Damaged keys are reported and skipped. */
  static async open(source: SigningKeySource | undefined, onBad?: (name: string, err: Error) => void): Promise<SigningKeys> {
    const keys = new SigningKeys(source, onBad);
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
    await this.source?.add(kid, file);
    const key = await load(file);
    this.keys = [key, ...this.keys.filter((k) => k.kid !== kid)];
    this.generation++;
    this.seenVersion = undefined;
    return key;
  }

  /** Remove all but the newest `keep` keys; returns the kids removed. */
  async prune(keep: number): Promise<string[]> {
    const removed = this.keys.slice(Math.max(1, keep)).map((k) => k.kid);
    await this.source?.remove(removed);
    this.keys = this.keys.slice(0, Math.max(1, keep));
    this.generation++;
    this.seenVersion = undefined;
    return removed;
  }

  /** Re-read the source if it changed (checked at most once a second). */
  async refresh(): Promise<void> {
    if (this.source === undefined) return;
    const now = Date.now();
    if (now - this.checkedAt < 1000) return;
    this.checkedAt = now;
    if ((await this.source.version()) !== this.seenVersion) await this.reload();
  }

  private async reload(): Promise<void> {
    if (this.source === undefined) return;
    this.seenVersion = await this.source.version();
    const loaded: SigningKey[] = [];
    for (const stored of await this.source.read((name, err) => this.onBad?.(name, err))) {
      try {
        loaded.push(await load(stored));
      } catch (err) {
        // One damaged key must not stop the others from signing and verifying.
        this.onBad?.(stored.jwk.kid ?? '(no kid)', err as Error);
      }
    }
    this.keys = loaded.sort((a, b) => b.createdAt - a.createdAt || a.kid.localeCompare(b.kid));
    this.generation++;
  }
}
