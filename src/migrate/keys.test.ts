/** The signing-key phase of `berth migrate`: key files into another key source, once; the source directory only read. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KeyFiles } from '../auth/key-files.ts';
import { SigningKeys, type SigningKeySource, type StoredKey } from '../auth/keys.ts';
import { FileSealingKey } from '../secrets/secret-box.ts';
import { copySealingKey, copySigningKeys, readOnlyKeyFiles } from './keys.ts';

function memoryKeys(): SigningKeySource & { keys: Map<string, StoredKey> } {
  const keys = new Map<string, StoredKey>();
  return {
    keys,
    version: async () => [...keys.keys()].sort().join(','),
    read: async () => [...keys.values()],
    add: async (kid, key) => void keys.set(kid, key),
    remove: async (kids) => kids.forEach((k) => keys.delete(k)),
  };
}

describe('copySigningKeys', () => {
  let dir: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-migrate-keys-'));
    const keys = await SigningKeys.open(new KeyFiles(dir));
    await keys.rotate();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('adds every key the target lacks, by its kid, then nothing on a second run', async () => {
    const target = memoryKeys();
    const first = await copySigningKeys(readOnlyKeyFiles(dir), target);
    assert.deepEqual(first, { total: 2, copied: 2 });
    const files = (await new KeyFiles(dir).read(() => undefined)).map((k) => k.jwk.kid).sort();
    assert.deepEqual([...target.keys.keys()].sort(), files);
    assert.deepEqual(await copySigningKeys(readOnlyKeyFiles(dir), target), { total: 2, copied: 0 });
  });

  it('adds nothing in a dry run, and fails on a key file it cannot read', async () => {
    const target = memoryKeys();
    assert.deepEqual(await copySigningKeys(readOnlyKeyFiles(dir), target, { dryRun: true }), { total: 2, copied: 2 });
    assert.equal(target.keys.size, 0);
    fs.writeFileSync(path.join(dir, 'broken.jwk.json'), '{not json');
    await assert.rejects(copySigningKeys(readOnlyKeyFiles(dir), target), /cannot read the source's signing keys: broken\.jwk\.json/);
    assert.equal(target.keys.size, 0);
  });
});

describe('copySealingKey', () => {
  it("copies the source's build secrets key where the target has none, keeps an equal one, refuses a different one", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-migrate-seal-'));
    try {
      let held: Buffer | undefined;
      const target = { stored: async () => held, adopt: async (k: Buffer) => ((held = k), true) };
      assert.deepEqual(await copySealingKey(dir, target), { total: 0, copied: 0 }, 'no key file: nothing to copy');
      const key = await new FileSealingKey(dir).key();
      assert.deepEqual(await copySealingKey(dir, target, { dryRun: true }), { total: 1, copied: 1 });
      assert.equal(held, undefined);
      assert.deepEqual(await copySealingKey(dir, target), { total: 1, copied: 1 });
      assert.deepEqual(held, key);
      assert.deepEqual(await copySealingKey(dir, target), { total: 1, copied: 0 });
      held = Buffer.alloc(32, 1);
      await assert.rejects(copySealingKey(dir, target), /different build secrets key/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
