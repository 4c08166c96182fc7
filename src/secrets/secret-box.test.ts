import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FileSealingKey, MemorySealingKey, SEALING_KEY_FILE, SealedSecretError, SecretBox } from './secret-box.ts';

describe('SecretBox', () => {
  it('opens what it sealed, and nothing moved to another rule or field, changed, or sealed with another key', async () => {
    const box = new SecretBox(new MemorySealingKey());
    const sealed = await box.seal('r1/credential', 'ghp_secret-token');
    assert.match(sealed, /^v1:[A-Za-z0-9_-]+$/);
    assert.ok(!sealed.includes('ghp_secret'));
    assert.notEqual(await box.seal('r1/credential', 'ghp_secret-token'), sealed, 'a fresh IV each time');
    assert.equal(await box.open('r1/credential', sealed), 'ghp_secret-token');
    await assert.rejects(box.open('r2/credential', sealed), SealedSecretError);
    await assert.rejects(box.open('r1/hook', sealed), SealedSecretError);
    const flipped = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'B' : 'A') + sealed.slice(-1);
    await assert.rejects(box.open('r1/credential', flipped), SealedSecretError);
    await assert.rejects(new SecretBox(new MemorySealingKey()).open('r1/credential', sealed), SealedSecretError);
    await assert.rejects(box.open('r1/credential', 'plain'), SealedSecretError);
    await assert.rejects(box.open('r1/credential', 'v1:AAAA'), SealedSecretError);
  });

  it('keeps its key in a 0600 file that every later box (another process) reads', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-seal-'));
    try {
      const keys = path.join(dir, 'auth', 'keys');
      const sealed = await new SecretBox(new FileSealingKey(keys)).seal('a', 'b');
      assert.equal(fs.statSync(path.join(keys, SEALING_KEY_FILE)).mode & 0o777, 0o600);
      assert.equal(await new SecretBox(new FileSealingKey(keys)).open('a', sealed), 'b');
      assert.deepEqual(fs.readdirSync(keys), [SEALING_KEY_FILE], 'no temp file left');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
