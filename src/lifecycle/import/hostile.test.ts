/**
 * `berth import` on a hostile registry:2 root: each trap refused or skipped with a message naming
 * it, nothing of it in berth's storage or database, and everything else still imported.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ImportSummary } from './import.ts';
import { sha256, Tree } from './test-support.ts';

describe('berth import: hostile input', () => {
  let tree: Tree;
  let summary: ImportSummary;
  let good: ReturnType<Tree['image']>;
  let corrupt: ReturnType<Tree['image']>;
  const outside = (): string => path.join(tree.dir, 'outside');
  const reasons = (kind: string, name: RegExp): string[] =>
    summary.skipped.filter((s) => s.kind === kind && name.test(s.name)).map((s) => s.reason);

  before(async () => {
    tree = new Tree();
    good = tree.image('alice/good', 'good', '1');

    // a repository that is a symbolic link to a directory outside ROOT
    fs.mkdirSync(outside(), { recursive: true });
    const elsewhere = tree.image('tmp/elsewhere', 'elsewhere', 'x');
    fs.renameSync(path.join(tree.v2, 'repositories', 'tmp', 'elsewhere'), path.join(outside(), 'repo'));
    fs.symlinkSync(path.join(outside(), 'repo'), path.join(tree.v2, 'repositories', 'evil'));
    assert.ok(elsewhere.manifest.digest.startsWith('sha256:'));

    // a blob whose data is a symbolic link to a file outside ROOT (whose digest the attacker knows)
    const secret = 'root:x:0:0::/root:/bin/sh\n';
    fs.writeFileSync(path.join(outside(), 'secret'), secret);
    const stolen = sha256(secret);
    const stolenData = tree.blobPath(stolen);
    fs.mkdirSync(path.dirname(stolenData), { recursive: true });
    fs.symlinkSync(path.join(outside(), 'secret'), stolenData);
    tree.layerLink('alice/good', stolen);

    // link files holding garbage, another digest than their directory's, or far too much
    tree.write(`repositories/alice/good/_layers/sha256/${'a'.repeat(64)}/link`, '../../../../../etc/passwd');
    tree.layerLink('alice/good', `sha256:${'b'.repeat(64)}`, `sha256:${'c'.repeat(64)}`);
    tree.write(`repositories/alice/good/_layers/sha256/${'d'.repeat(64)}/link`, `sha256:${'d'.repeat(64)}${' '.repeat(1 << 20)}`);
    tree.write('repositories/alice/good/_layers/sha256/not-a-digest/link', `sha256:${'e'.repeat(64)}`);
    // a tag whose link is a symbolic link out of ROOT
    fs.writeFileSync(path.join(outside(), 'link'), good.manifest.digest);
    fs.mkdirSync(path.join(tree.v2, 'repositories/alice/good/_manifests/tags/sneaky/current'), { recursive: true });
    fs.symlinkSync(path.join(outside(), 'link'), path.join(tree.v2, 'repositories/alice/good/_manifests/tags/sneaky/current/link'));

    // a data file whose bytes do not match its digest, with the manifest and tag that need it
    corrupt = tree.image('alice/corrupt', 'corrupt', 'v1');
    fs.writeFileSync(tree.blobPath(corrupt.layer.digest), 'flipped bits');

    // names berth's grammar refuses, and a loop of directories
    tree.image('Upper/Case', 'upper', 'x');
    tree.tag('alice/good', '-bad', good.manifest.digest);
    fs.symlinkSync('..', path.join(tree.v2, 'repositories', 'alice', 'loop'));

    summary = await tree.run();
  });

  after(() => tree.remove());

  it('imports what is sound', async () => {
    const backend = tree.backend();
    try {
      assert.equal((await backend.meta.resolveTag('alice/good', '1'))?.digest, good.manifest.digest);
      assert.deepEqual(await backend.meta.listRepositories({}), ['alice/good']);
      assert.deepEqual(await backend.meta.listTags('alice/good', {}), ['1']);
    } finally {
      await backend.close();
    }
    assert.equal(summary.ok, false);
  });

  it('refuses a repository that is a symbolic link out of ROOT', () => {
    assert.match(reasons('path', /^evil$/).join(), /symbolic link to .*outside ROOT: refused/);
  });

  it('refuses a blob whose data is a symbolic link out of ROOT, and never copies it', () => {
    const stolen = sha256('root:x:0:0::/root:/bin/sh\n');
    assert.match(reasons('blob', new RegExp(stolen)).join(), /outside ROOT: refused/);
    assert.equal(tree.held(stolen), false);
  });

  it('refuses link files with garbage, a digest other than their directory, too many bytes, or a bad directory name', () => {
    const all = reasons('path', /^alice\/good$/).join('\n');
    assert.match(all, new RegExp(`${'a'.repeat(64)}/link holds garbage, not a sha256 digest: refused`));
    assert.match(all, new RegExp(`${'b'.repeat(64)}/link names sha256:${'c'.repeat(64)}, not its directory's digest: refused`));
    assert.match(all, new RegExp(`${'d'.repeat(64)}/link holds \\d+ bytes, more than the 256 expected: refused`));
    assert.match(all, /not-a-digest is not named by a sha256 digest: refused/);
  });

  it('refuses a tag whose link leads out of ROOT, and a tag berth would not accept', () => {
    assert.match(reasons('tag', /^alice\/good:sneaky$/).join(), /outside ROOT: refused/);
    assert.deepEqual(reasons('tag', /^alice\/good:"-bad"$/), ['not a valid tag: refused']);
  });

  it('skips a blob whose data does not match its digest, and the manifest and tag that need it', async () => {
    assert.match(reasons('blob', new RegExp(corrupt.layer.digest)).join(), /its data hashes to sha256:[a-f0-9]{64}: corrupt, not imported/);
    assert.equal(tree.held(corrupt.layer.digest), false);
    assert.match(reasons('manifest', /^alice\/corrupt@/).join(), /references blob .* missing or corrupt/);
    assert.match(reasons('tag', /^alice\/corrupt:v1$/).join(), /was not imported/);
  });

  it('refuses a repository name berth would not accept, and walks a loop of directories once', () => {
    assert.deepEqual(reasons('repository', /Upper/), ['not a valid repository name: refused']);
    assert.equal(summary.repositories.found, 3); // alice/good, alice/corrupt, and Upper/Case refused
  });
});
