import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isReference, isValidName, parseDigest, parseReference, validateName } from './reference.ts';
import { DigestInvalidError, NameInvalidError, ReferenceInvalidError } from './errors.ts';

describe('names', () => {
  it('accepts the spec grammar, multi-segment included', () => {
    for (const n of ['a', 'library/ubuntu', 'a/b/c/d', 'my-app', 'my__app', 'my.app', 'a--b', '0abc/x1']) assert.ok(isValidName(n), n);
  });
  it('refuses everything else', () => {
    for (const n of ['', 'A', 'a/', '/a', 'a//b', '-a', 'a-', 'a_', 'a___b', 'a/../b', '..', 'a b', 'a:b', 'x'.repeat(256)]) {
      assert.ok(!isValidName(n), n);
    }
    assert.throws(() => validateName('Bad'), NameInvalidError);
  });
});

describe('references', () => {
  it('parses tags and digests', () => {
    assert.deepEqual(parseReference('latest'), { kind: 'tag', tag: 'latest' });
    assert.deepEqual(parseReference('_v1.0-rc'), { kind: 'tag', tag: '_v1.0-rc' });
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.deepEqual(parseReference(digest), { kind: 'digest', digest });
    for (const r of ['latest', '_v1.0-rc', digest]) assert.ok(isReference(r), r);
  });
  it('refuses bad tags and digests', () => {
    for (const r of ['-x', '.x', '.INVALID_MANIFEST_NAME', 'a'.repeat(129), 'sha256:short', `md5:${'a'.repeat(32)}`, 'a b', '', '../x']) {
      assert.throws(() => parseReference(r), ReferenceInvalidError, r);
      assert.ok(!isReference(r), r);
    }
  });
  it('validates digest algorithms and encodings', () => {
    assert.equal(parseDigest(`sha512:${'b'.repeat(128)}`).algorithm, 'sha512');
    for (const dg of [`sha256:${'A'.repeat(64)}`, `sha256:${'a'.repeat(63)}`, `md5:${'a'.repeat(32)}`, 'sha256', `sha512:${'a'.repeat(64)}`]) {
      assert.throws(() => parseDigest(dg), DigestInvalidError, dg);
    }
  });
});
