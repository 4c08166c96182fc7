/** Retention policies: patterns, which policy applies, ages, and keep patterns (RE2, linear time). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAge, matchTagPatterns, MAX_TAG_PATTERN_PROGRAM, parseAge, patternCovers, policyFor, repositoryPatternProblem, tagPatternProblem, tagPatternsProblem } from './policy.ts';

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
    assert.match(tagPatternProblem('^v[0-9') ?? '', /not a valid regular expression \(RE2 syntax\): .*missing closing \]/);
  });

  it('keep patterns are RE2: what it cannot run is refused saying what, and so are patterns too large to match cheaply', () => {
    for (const ok of ['^v[0-9]+(\\.[0-9]+){0,3}$', '(?i)^release-', '^(latest|stable)$', '^(?P<major>\\d+)\\.', '^(?<major>\\d+)\\.', '[[:alpha:]]', '\\bx\\b', '^(a+)+$', '']) {
      assert.equal(tagPatternProblem(ok), undefined, ok);
    }
    assert.match(tagPatternProblem('^(a)\\1$') ?? '', /^"\^\(a\)\\\\1\$" is not a valid regular expression \(RE2 syntax: backreferences are not supported\): /);
    assert.match(tagPatternProblem('^(?<v>a)\\k<v>$') ?? '', /backreferences are not supported/);
    assert.match(tagPatternProblem('^v(?=[0-9])') ?? '', /lookahead and lookbehind are not supported/);
    assert.match(tagPatternProblem('^v(?![0-9])') ?? '', /lookahead and lookbehind are not supported/);
    assert.match(tagPatternProblem('(?<=v)[0-9]') ?? '', /lookahead and lookbehind are not supported/);
    assert.match(tagPatternProblem('(?<!v)[0-9]') ?? '', /lookahead and lookbehind are not supported/);
    assert.match(tagPatternProblem('a{1001}') ?? '', /invalid repeat count/);
    assert.match(tagPatternProblem('((a{100}){100}){100}') ?? '', /invalid repeat count/, 'RE2 caps nested repetition at 1000 copies');
    assert.match(tagPatternProblem('(\\w?){100}\\w{100}') ?? '', new RegExp(`is too complex: it compiles to 502 instructions, at most ${MAX_TAG_PATTERN_PROGRAM}`));
    assert.equal(tagPatternProblem('(\\w?){60}\\w{60}'), undefined, '302 instructions');
    assert.match(tagPatternProblem('a'.repeat(201)) ?? '', /at most 200 characters/);
  });

  it("a policy's keep patterns together compile to at most 1000 instructions", () => {
    assert.equal(tagPatternsProblem(['^v[0-9]', '^latest$', '(\\w?){60}\\w{60}', '(\\w?){60}\\w{60}', '(\\w?){60}\\w{60}']), undefined, '3 x 302 and a few');
    assert.match(tagPatternsProblem(['(\\w?){60}\\w{60}', '(\\w?){60}\\w{60}', '(\\w?){60}\\w{60}', '(\\w?){30}\\w{30}']) ?? '', /compile to 1058 instructions together, at most 1000/);
    assert.equal(tagPatternsProblem(['(a)\\1', '^v']), undefined, 'one that does not compile is tagPatternProblem\'s to refuse');
    assert.equal(tagPatternsProblem([]), undefined);
  });

  it('ages: whole days or Go durations, positive, and back', () => {
    assert.equal(parseAge('90d'), 90 * 86_400_000);
    assert.equal(parseAge('36h'), 36 * 3_600_000);
    assert.throws(() => parseAge('0d'), /greater than zero/);
    assert.throws(() => parseAge('7days'), RangeError);
    assert.equal(formatAge(90 * 86_400_000), '90d');
    assert.equal(formatAge(36 * 3_600_000), '36h');
  });

  it('keep patterns: the first matching index per tag', () => {
    assert.deepEqual(matchTagPatterns(['^v', 'rc'], ['v1', 'x-rc', 'v2-rc', 'dev']), [0, 1, 0, -1]);
    assert.deepEqual(matchTagPatterns(['rc', '^v'], ['v1', 'x-rc', 'v2-rc', 'dev']), [1, 0, 0, -1]);
    assert.deepEqual(matchTagPatterns([], ['a']), [-1]);
    assert.deepEqual(matchTagPatterns(['(?i)^LATEST$', '^\\d{4}-\\d{2}$'], ['latest', 'Latest', '2026-12', '2026-123']), [0, 0, 1, -1]);
    assert.throws(() => matchTagPatterns(['^v', '(?=v)'], ['v1']), /the keep pattern "\(\?=v\)" cannot be matched/);
  });

  it('keep patterns that explode under backtracking answer at once: 2,000 of the longest tags against ^(a+)+$ and friends', () => {
    // One such tag held a backtracking engine for about a second (then the time limit cut it off); 2,000 would take hours.
    const tags = Array.from({ length: 2000 }, (_, i) => `${'a'.repeat(120)}${String(i).padStart(4, '0')}!`.slice(-128));
    const patterns = ['^(a+)+$', '^(a|aa)+$', '^(a*)*b$', '(.*a){20}x', '^(a+)+[0-9]+!$'];
    assert.deepEqual(matchTagPatterns(patterns, tags), tags.map(() => 4));
    assert.deepEqual(matchTagPatterns(patterns, ['a'.repeat(128)]), [0]);
  });

  it('keep patterns answer as JavaScript RegExps do, over every pattern both accept of a small grammar', () => {
    // A seeded generator: the same patterns each run.
    let seed = 42;
    const pick = <T>(xs: readonly T[]): T => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return xs[seed % xs.length]!;
    };
    const atoms = ['a', 'b', '1', '\\.', '.', '[ab]', '[^a]', '\\d', '\\w', '(a|b1)', '(?:ab)', '\\b', '-'];
    const quantifiers = ['', '', '*', '+', '?', '{2}', '{1,3}', '*?'];
    const tags = ['', 'a', 'b', 'ab', 'aab', 'ba', 'a1', '1.2', 'v1.2-rc', 'b1b1', 'aaaa', 'a-b', 'x', '1'];
    let compared = 0;
    for (let n = 0; n < 600; n++) {
      let pattern = pick(['', '', '^']);
      const length = 1 + (n % 4);
      for (let i = 0; i < length; i++) pattern += pick(atoms) + pick(quantifiers);
      pattern += pick(['', '', '$']);
      let js: RegExp;
      try {
        js = new RegExp(pattern);
      } catch {
        continue;
      }
      if (tagPatternProblem(pattern) !== undefined) continue;
      compared++;
      assert.deepEqual(matchTagPatterns([pattern], tags), tags.map((t) => (js.test(t) ? 0 : -1)), pattern);
    }
    assert.ok(compared > 400, `${compared} patterns compared`);
  });
});
