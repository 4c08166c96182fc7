/**
 * Blob HEAD and GET answer "repository R links blob D" from memory, and stay right when another
 * process changes the same SQLite database: a second connection to the file is what a `berth`
 * CLI command beside the server is (SQLite's data_version is per connection, not per process).
 */
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { registriesBesideCli, type RegistriesBesideCli } from '../../test/helpers/beside-cli.ts';
import { blobDataPath } from '../storage/paths.ts';
import { digestOf } from './digest.ts';
import { BlobUnknownError } from './errors.ts';

describe('the blob-link cache beside another process', () => {
  let t: RegistriesBesideCli;

  async function blob(repo: string, label: string): Promise<string> {
    const bytes = Buffer.from(`blob ${label}`);
    const digest = digestOf(bytes);
    await t.driver.putContent(blobDataPath('sha256', digest.slice(7)), bytes);
    await t.serverMeta.linkBlob(repo, { digest, size: bytes.length });
    return digest;
  }

  /** A HEAD as the server answers it, once it is in memory (asserted: else the test proves nothing). */
  async function cachedHead(repo: string, digest: string): Promise<void> {
    await t.server.blobs.stat(repo, digest);
    t.lookups.length = 0;
    assert.equal((await t.server.blobs.stat(repo, digest)).digest, digest);
    assert.deepEqual(t.lookups, [{ cache: 'blob-links', hit: true }], 'served from memory');
  }

  beforeEach(async () => (t = await registriesBesideCli('blob-cache')));
  afterEach(() => t.close());

  it('answers BLOB_UNKNOWN for a link another process removed, from the next turn on', async () => {
    const digest = await blob('r/app', 'one');
    const other = await blob('r/other', 'two');
    await cachedHead('r/app', digest);
    await cachedHead('r/other', other);
    await nextTurn();
    await t.cli.blobs.delete('r/app', digest);
    await nextTurn();
    await assert.rejects(t.server.blobs.stat('r/app', digest), BlobUnknownError);
    // everything was forgotten, and what is still linked is read again and served
    t.lookups.length = 0;
    assert.equal((await t.server.blobs.stat('r/other', other)).digest, other);
    assert.deepEqual(t.lookups, [{ cache: 'blob-links', hit: false }]);
  });

  it('keeps serving from memory while no other process commits', async () => {
    const digest = await blob('r/app', 'one');
    await cachedHead('r/app', digest);
    await nextTurn();
    await blob('r/app', 'two');
    await nextTurn();
    t.lookups.length = 0;
    await t.server.blobs.stat('r/app', digest);
    assert.deepEqual(t.lookups, [{ cache: 'blob-links', hit: true }], "this process's own commits do not empty the cache");
  });

  it("forgets at once a link this process's own delete removed", async () => {
    const digest = await blob('r/app', 'one');
    await cachedHead('r/app', digest);
    await t.server.blobs.delete('r/app', digest);
    await assert.rejects(t.server.blobs.stat('r/app', digest), BlobUnknownError);
  });
});
