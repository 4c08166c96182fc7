/**
 * The signing-key phase of `berth migrate`: the source's token signing keys (JWK files beside its
 * SQLite database, auth/key-files.ts) added to the target's key source (PostgreSQL's
 * signing_keys table, or the target's own key directory), so that every token the source issued
 * still verifies on the target. Keys the target already holds are left alone; none is removed.
 */
import { calculateJwkThumbprint } from 'jose';
import type { SigningKeySource, StoredKey } from '../auth/keys.ts';

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
export async function copySigningKeys(from: SigningKeySource | undefined, to: SigningKeySource, opts: { dryRun?: boolean } = {}): Promise<KeyReport> {
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
