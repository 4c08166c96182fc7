/**
 * fsck on a PostgreSQL meta store (the inventory's PostgreSQL twin) and the memory driver: the
 * same findings and repairs as on SQLite for a corrupt layer, a lost blob nothing needs, an
 * orphan and a journaled blob whose file a crash lost. Skips without PostgreSQL (fails under CI).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { PG_SKIP, pgDatabase } from '../../test/helpers/pg-database.ts';
import { PgBlobInventory } from '../meta/postgres/inventory.ts';
import { PgMetaStore } from '../meta/postgres/meta-store.ts';
import { silentProgress } from '../migrate/progress.ts';
import { MemoryDriver } from '../storage/drivers/memory.ts';
import { blobDataPath } from '../storage/paths.ts';
import { fsck } from './fsck.ts';

const digestOf = (data: string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const pathOf = (digest: string): string => blobDataPath('sha256', digest.slice(7));

describe('fsck on PostgreSQL', { skip: PG_SKIP }, () => {
  it('finds and repairs as on SQLite', async () => {
    const f = await pgDatabase();
    try {
      const meta = new PgMetaStore(f.db);
      const driver = new MemoryDriver();
      const store = async (text: string, journal = false): Promise<string> => {
        const digest = digestOf(text);
        await driver.putContent(pathOf(digest), Buffer.from(text));
        await meta.linkBlob('r/app', { digest, size: text.length }, journal ? { journal: Buffer.from(text) } : {});
        return digest;
      };
      const layer = await store('layer');
      const manifestBody = JSON.stringify({ layers: [layer] });
      const manifest = await store(manifestBody);
      await meta.putManifest('r/app', { digest: manifest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: manifestBody.length, artifactType: null, subject: null, annotations: null, createdAt: 1, blobs: [layer], children: [] }, 'v1');
      const lost = await store('lost, nothing needs it');
      const journaled = await store('journaled', true);
      await driver.putContent(pathOf(layer), Buffer.from('flipped'));
      await driver.delete(pathOf(lost));
      await driver.delete(pathOf(journaled));
      const orphan = digestOf('orphan');
      await driver.putContent(pathOf(orphan), Buffer.from('orphan'));

      const run = (repair: boolean) => fsck({ driver, meta, inventory: new PgBlobInventory(f.db), repair, progress: silentProgress });
      const found = await run(false);
      assert.deepEqual(found.problems.map((p) => `${p.kind} ${p.digest ?? ''}`).sort(), [`corrupt ${layer}`, `missing ${lost}`, `orphan ${orphan}`, `torn-journal ${journaled}`].sort());
      const repaired = await run(true);
      assert.deepEqual(Object.fromEntries(repaired.problems.map((p) => [p.digest, p.fixed])), { [layer]: false, [lost]: true, [orphan]: false, [journaled]: true });
      assert.equal(await meta.getBlob(lost), undefined);
      assert.equal((await driver.getContent(pathOf(journaled))).toString(), 'journaled');
      const after = await run(false);
      assert.deepEqual(after.problems.map((p) => `${p.kind} ${p.digest ?? ''}`).sort(), [`missing ${layer}`, `orphan ${orphan}`].sort());
      assert.deepEqual(after.problems.find((p) => p.kind === 'missing')?.neededBy, [`r/app@${manifest}`]);
    } finally {
      await f.cleanup();
    }
  });
});
