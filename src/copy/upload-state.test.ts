import assert from 'node:assert/strict';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../../test/helpers/process.ts';
import { UploadStateDir, type UploadRecord } from './upload-state.ts';

const digest = `sha256:${'a'.repeat(64)}`;
const record = (offset: number, repository = 'team/app'): UploadRecord => ({
  registry: 'registry.example:5000',
  repository,
  digest,
  location: `https://registry.example:5000/v2/${repository}/blobs/uploads/u1?_state=s${offset}`,
  offset,
});

describe('upload state', () => {
  let work: string;
  before(async () => {
    work = await tempDir('upload-state');
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('saves, loads and removes a record, leaving nothing behind', async () => {
    const state = new UploadStateDir(join(work, 'plain'));
    assert.equal(await state.load('registry.example:5000', 'team/app', digest), undefined);
    await state.save(record(100));
    await state.save(record(200));
    assert.deepEqual(await state.load('registry.example:5000', 'team/app', digest), record(200));
    assert.deepEqual(await readdir(state.dir), [basename(state.file('registry.example:5000', 'team/app', digest))]);
    await state.remove('registry.example:5000', 'team/app', digest);
    assert.deepEqual(await readdir(state.dir), []);
    // nothing to remove, or no directory yet: not an error
    await state.remove('registry.example:5000', 'team/app', digest);
    await new UploadStateDir(join(work, 'never-made')).remove('registry.example:5000', 'team/app', digest);
  });

  it("takes the temporary file a copy killed while saving left, with the record, and no other upload's", async () => {
    const state = new UploadStateDir(join(work, 'killed'));
    await state.save(record(100));
    await state.save(record(50, 'team/other'));
    // What a kill between save()'s write and its rename leaves (save's naming: <record>.<random>.tmp).
    const mine = `${state.file('registry.example:5000', 'team/app', digest)}.0badc0de.tmp`;
    const theirs = `${state.file('registry.example:5000', 'team/other', digest)}.0badc0de.tmp`;
    await writeFile(mine, JSON.stringify(record(200)), { mode: 0o600 });
    await writeFile(theirs, '{"regis', { mode: 0o600 });
    // The record of the previous save still resumes the upload (the registry says where it stands).
    assert.deepEqual(await state.load('registry.example:5000', 'team/app', digest), record(100));
    await state.save(record(300));
    assert.deepEqual(await state.load('registry.example:5000', 'team/app', digest), record(300));
    await state.remove('registry.example:5000', 'team/app', digest);
    const other = basename(state.file('registry.example:5000', 'team/other', digest));
    assert.deepEqual((await readdir(state.dir)).sort(), [other, basename(theirs)].sort());
    await state.remove('registry.example:5000', 'team/other', digest);
    assert.deepEqual(await readdir(state.dir), []);
  });
});
