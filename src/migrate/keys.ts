/**
 * The signing-key phase of `berth migrate`: the source's token signing keys (JWK files beside its
 * SQLite database, auth/key-files.ts) added to the target's key source (PostgreSQL's
 * signing_keys table, or the target's own key directory), so that every token the source issued
 * still verifies on the target. Keys the target already holds are left alone; none is removed.
 * The key sealing build rules' secrets goes along (copySealingKey).
 */
import fs from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint } from 'jose';
import type { SigningKeySource, StoredKey } from '../auth/keys.ts';
import { SEALING_KEY_FILE } from '../secrets/secret-box.ts';

/** The JWK files of a key directory as KeyFiles (auth/key-files.ts) writes them. */
const SUFFIX = '.jwk.json';

/**
 * The source's key directory, only read: unlike KeyFiles, which creates and chmods its directory,
 * this works for a user who may read the source's files but not change them.
 */
export function readOnlyKeyFiles(dir: string): Pick<SigningKeySource, 'read'> {
  return {
    async read(onBad) {
      const keys: StoredKey[] = [];
      for (const name of fs.readdirSync(dir).filter((f) => f.endsWith(SUFFIX)).sort()) {
        try {
          keys.push(JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as StoredKey);
        } catch (err) {
          onBad(name, err as Error);
        }
      }
      return keys;
    },
  };
}

export interface KeyReport {
  /** Keys in the source. */
  total: number;
  /** Keys added to the target (or, in a dry run, that would be). */
  copied: number;
}

async function kidOf(key: StoredKey): Promise<string> {
  const { kty, crv, x, y } = key.jwk;
  return key.jwk.kid ?? (await calculateJwkThumbprint({ kty, crv, x, y }));
}

/** Add to `to` every key of `from` it lacks. A key the source cannot read fails the phase. */
export async function copySigningKeys(from: Pick<SigningKeySource, 'read'> | undefined, to: SigningKeySource, opts: { dryRun?: boolean } = {}): Promise<KeyReport> {
  if (from === undefined) return { total: 0, copied: 0 };
  const bad: string[] = [];
  const keys = await from.read((name, err) => bad.push(`${name}: ${err.message}`));
  if (bad.length > 0) throw new Error(`cannot read the source's signing keys: ${bad.join('; ')}`);
  const held = new Set(await Promise.all((await to.read(() => undefined)).map(kidOf)));
  let copied = 0;
  for (const key of keys) {
    const kid = await kidOf(key);
    if (held.has(kid)) continue;
    if (opts.dryRun !== true) await to.add(kid, key);
    copied++;
  }
  return { total: keys.length, copied };
}

/** What `copySealingKey` needs of the target: PostgreSQL's sealing key (meta/postgres/sealing-key.ts). */
export interface SealingKeyTarget {
  stored(): Promise<Buffer | undefined>;
  adopt(key: Buffer): Promise<boolean>;
}

/**
 * The key that seals build rules' secrets (a file in the source's key directory, secrets/secret-box.ts)
 * into the target, so that the rules copied keep their secrets. A target that already holds a
 * different key fails the phase: its own sealed secrets would no longer open, or the source's would not.
 */
export async function copySealingKey(dir: string | undefined, to: SealingKeyTarget, opts: { dryRun?: boolean } = {}): Promise<KeyReport> {
  const file = dir === undefined ? undefined : path.join(dir, SEALING_KEY_FILE);
  if (file === undefined || !fs.existsSync(file)) return { total: 0, copied: 0 };
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64url');
  const held = await to.stored();
  if (held !== undefined) {
    if (held.equals(key)) return { total: 1, copied: 0 };
    throw new Error("the target already has a different build secrets key than the source's: the build rules' sealed secrets would not open");
  }
  if (opts.dryRun !== true) await to.adopt(key);
  return { total: 1, copied: 1 };
}
