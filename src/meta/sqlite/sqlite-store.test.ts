import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runMetaStoreConformance } from '../conformance.ts';
import { SqliteMetaStore } from './sqlite-store.ts';

runMetaStoreConformance('sqlite', async (now) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-meta-'));
  return { store: new SqliteMetaStore(path.join(dir, 'meta.db'), { now }), cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
});

it('sqlite: reopening a database keeps its data and does not re-run migrations', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-meta-'));
  const file = path.join(dir, 'meta.db');
  const a = new SqliteMetaStore(file);
  await a.linkBlob('r/x', { digest: `sha256:${'a'.repeat(64)}`, size: 1 });
  await a.close();
  const b = new SqliteMetaStore(file);
  assert.ok(await b.getBlob(`sha256:${'a'.repeat(64)}`));
  await b.close();
  await fs.rm(dir, { recursive: true, force: true });
});
