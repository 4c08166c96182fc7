import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptedTypes, parseContentRange, parsePage, parseRange, uploadRange } from './headers.ts';
import { HttpError } from './errors.ts';
import { PaginationInvalidError } from '../registry/errors.ts';

describe('Range', () => {
  it('parses bounded, open and suffix ranges, clamping the end', () => {
    assert.deepEqual(parseRange('bytes=0-4', 10), { start: 0, end: 4 });
    assert.deepEqual(parseRange('bytes=5-', 10), { start: 5, end: 9 });
    assert.deepEqual(parseRange('bytes=-3', 10), { start: 7, end: 9 });
    assert.deepEqual(parseRange('bytes=-30', 10), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=8-100', 10), { start: 8, end: 9 });
    assert.equal(parseRange(undefined, 10), undefined);
    assert.equal(parseRange('bytes=0-1,3-4', 10), undefined);
    assert.equal(parseRange('items=0-1', 10), undefined, 'another unit is ignored');
    assert.equal(parseRange('bytes=5-2', 10), undefined, 'an invalid range is ignored');
    assert.equal(parseRange('bytes=0-', 0), undefined, 'an empty blob is served whole');
  });
  it('refuses unsatisfiable ranges with 416 and the size', () => {
    for (const h of ['bytes=10-', 'bytes=10-20', 'bytes=-0']) {
      assert.throws(() => parseRange(h, 10), (e: unknown) => e instanceof HttpError && e.headers?.['Content-Range'] === 'bytes */10', h);
    }
  });
});

describe('Content-Range', () => {
  it('parses the upload form', () => {
    assert.deepEqual(parseContentRange('0-99'), { start: 0, end: 99 });
    assert.deepEqual(parseContentRange('bytes 100-199/*'), { start: 100, end: 199 });
    assert.throws(() => parseContentRange('9-1'), HttpError);
    assert.throws(() => parseContentRange('abc'), HttpError);
  });
  it('formats the received range', () => {
    assert.equal(uploadRange(0), '0-0');
    assert.equal(uploadRange(10), '0-9');
  });
});

describe('pagination and Accept', () => {
  it('parses n and last, clamping n', () => {
    assert.deepEqual(parsePage(new URLSearchParams('n=5&last=x'), 100), { n: 5, last: 'x' });
    assert.deepEqual(parsePage(new URLSearchParams('n=5000'), 100), { n: 100, last: undefined });
    assert.deepEqual(parsePage(new URLSearchParams(''), 100, 50), { n: 50, last: undefined });
    assert.throws(() => parsePage(new URLSearchParams('n=abc'), 100), PaginationInvalidError);
  });
  it('splits Accept headers', () => {
    assert.deepEqual([...acceptedTypes(['a/b; q=0.5, c/d', 'E/F'])], ['a/b', 'c/d', 'e/f']);
  });
  it('answers a repeated Accept header as the first time, whatever came between (the parsed headers are cached)', () => {
    const header = 'application/vnd.oci.image.manifest.v1+json, Application/JSON;q=0.1';
    assert.deepEqual([...acceptedTypes(header)], ['application/vnd.oci.image.manifest.v1+json', 'application/json']);
    // more distinct headers than the cache holds, and longer ones than it keeps
    for (let i = 0; i < 600; i++) assert.deepEqual([...acceptedTypes(`x/${i}`)], [`x/${i}`]);
    const long = `${'a/b,'.repeat(400)}c/d`;
    assert.deepEqual([...acceptedTypes(long)], ['a/b', 'c/d']);
    assert.deepEqual([...acceptedTypes(header)], ['application/vnd.oci.image.manifest.v1+json', 'application/json']);
    assert.deepEqual([...acceptedTypes(undefined)], []);
  });
});
