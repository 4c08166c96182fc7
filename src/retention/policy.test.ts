/** Retention policies: patterns, which policy applies, ages, and keep patterns under a time limit. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAge, matchTagPatterns, parseAge, patternCovers, PatternTimeoutError, policyFor, repositoryPatternProblem, tagPatternProblem } from './policy.ts';

describe('retention policy', () => {
  it('patterns: * stands for any characters, / included; a name without * only itself', () => {
    assert.ok(patternCovers('acme/*', 'acme/app'));
    assert.ok(patternCovers('acme/*', 'acme/team/app'));
    assert.ok(!patternCovers('acme/*', 'acme'));
    assert.ok(!patternCovers('acme/*', 'acmeco/app'));
    assert.ok(patternCovers('*', 'ubuntu'));
    assert.ok(patternCovers('acme/app-*', 'acme/app-web'));
    assert.ok(!patternCovers('acme/a.p', 'acme/axp'), 'a dot is a dot');
    assert.ok(patternCovers('acme/app', 'acme/app'));
    assert.ok(!patternCovers('acme/app', 'acme/app2'));
  });

  it('the most specific policy applies: an exact name, else most characters other than *, ties by pattern order', () => {
    const ps = [{ repository: '*' }, { repository: 'acme/*' }, { repository: 'acme/app-*' }, { repository: 'acme/app-web' }, { repository: 'acme/*-web' }];
    assert.equal(policyFor('acme/app-web', ps)?.repository, 'acme/app-web');
    assert.equal(policyFor('acme/app-api', ps)?.repository, 'acme/app-*');
    assert.equal(policyFor('acme/db', ps)?.repository, 'acme/*');
    assert.equal(policyFor('bob/x', ps)?.repository, '*');
    // acme/x* and acme/*b have as many literal characters: byte order decides ('*' < 'x'), whatever the list order.
    const tie = [{ repository: 'acme/x*' }, { repository: 'acme/*b' }];
    assert.equal(policyFor('acme/xb', tie)?.repository, 'acme/*b');
    assert.equal(policyFor('acme/xb', [...tie].reverse())?.repository, 'acme/*b');
    assert.equal(policyFor('bob/x', [{ repository: 'acme/*' }]), undefined);
  });

  it('refuses what is not a repository pattern or a regular expression, saying why', () => {
    assert.equal(repositoryPatternProblem('acme/*'), undefined);
    assert.equal(repositoryPatternProblem('*'), undefined);
    assert.match(repositoryPatternProblem('') ?? '', /required/);
    assert.match(repositoryPatternProblem('Acme/*') ?? '', /not a repository name/);
    assert.match(repositoryPatternProblem('acme//x') ?? '', /not a repository name/);
    assert.match(repositoryPatternProblem(`a/${'b'.repeat(200)}`) ?? '', /at most 180/);
    assert.equal(tagPatternProblem('^v[0-9]'), undefined);
    assert.match(tagPatternProblem('^v[0-9') ?? '', /not a valid regular expression/);
  });

  it('ages: whole days or Go durations, positive, and back', () => {
    assert.equal(parseAge('90d'), 90 * 86_400_000);
    assert.equal(parseAge('36h'), 36 * 3_600_000);
    assert.throws(() => parseAge('0d'), /greater than zero/);
    assert.throws(() => parseAge('7days'), RangeError);
    assert.equal(formatAge(90 * 86_400_000), '90d');
    assert.equal(formatAge(36 * 3_600_000), '36h');
  });

  it('keep patterns: the first matching index per tag; one that explodes is cut off at the limit', () => {
    assert.deepEqual(matchTagPatterns(['^v', 'rc'], ['v1', 'x-rc', 'v2-rc', 'dev']), [0, 1, 0, -1]);
    assert.deepEqual(matchTagPatterns([], ['a']), [-1]);
    const started = Date.now();
    assert.throws(() => matchTagPatterns(['^(a+)+$'], [`${'a'.repeat(40)}!`], 100), PatternTimeoutError);
    assert.ok(Date.now() - started < 2000);
  });
});
