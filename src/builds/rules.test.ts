import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixedRef, isRefName, matchRef, ruleProblem, tagFor } from './rules.ts';

describe('build rules', () => {
  it('match a branch by name and a tag by regular expression, with its groups', () => {
    const branch = { sourceType: 'branch' as const, source: 'main' };
    assert.deepEqual(matchRef(branch, 'branch', 'main'), ['main']);
    assert.equal(matchRef(branch, 'branch', 'mainline'), undefined);
    assert.equal(matchRef(branch, 'tag', 'main'), undefined, 'a tag of the same name is not the branch');
    const tags = { sourceType: 'tag' as const, source: '/^v([0-9.]+)$/' };
    assert.deepEqual(matchRef(tags, 'tag', 'v1.2'), ['v1.2', '1.2']);
    assert.equal(matchRef(tags, 'tag', 'release-1.2'), undefined);
    assert.equal(fixedRef(branch), 'main');
    assert.equal(fixedRef(tags), undefined);
  });

  it('make the tag from {sourceref} and the groups ({1} or {\\1}), turning what a tag cannot hold into -', () => {
    assert.equal(tagFor({ tag: '{1}' }, 'v1.2', ['v1.2', '1.2']), '1.2');
    assert.equal(tagFor({ tag: 'release-{\\1}' }, 'v1.2', ['v1.2', '1.2']), 'release-1.2');
    assert.equal(tagFor({ tag: '{sourceref}' }, 'feature/x', ['feature/x']), 'feature-x');
    assert.equal(tagFor({ tag: 'latest' }, 'main', ['main']), 'latest');
    assert.throws(() => tagFor({ tag: '{1}' }, 'v', ['v', '']), /not a valid tag/);
  });

  it('refuse a source or tag that cannot work, with the reason', () => {
    assert.equal(ruleProblem({ source: 'main', tag: 'latest' }), undefined);
    assert.equal(ruleProblem({ source: '/^v([0-9.]+)$/', tag: '{1}' }), undefined);
    assert.match(ruleProblem({ source: '/^v(?=1)/', tag: 'x' }) ?? '', /not a regular expression/);
    assert.match(ruleProblem({ source: 'main', tag: '{1}' }) ?? '', /no groups/);
    assert.match(ruleProblem({ source: '/^(a)$/', tag: '{2}' }) ?? '', /only 1 group/);
    assert.match(ruleProblem({ source: 'main', tag: 'bad tag' }) ?? '', /valid tag/);
    assert.match(ruleProblem({ source: 'a..b', tag: 'x' }) ?? '', /neither/);
    assert.match(ruleProblem({ source: '', tag: 'x' }) ?? '', /1 to/);
    assert.equal(isRefName('release/1.x'), true);
    assert.equal(isRefName('-rf'), false, 'no name that reads as an option');
    assert.equal(isRefName('a b'), false);
  });
});
