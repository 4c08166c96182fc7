/** Glob matching (glob.ts): the meaning of `*` and `?`, the same answers as an anchored RegExp, and no blow-up on hostile patterns. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { globMatches } from './glob.ts';

/** The RegExp the matcher replaced, as the reference for small inputs. */
function byRegExp(glob: string, text: string): boolean {
  const source = glob.replace(/[.\\+^$()[\]{}|]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(text);
}

describe('globMatches', () => {
  it('matches * as any run of characters and ? as one, everything else as itself', () => {
    assert.equal(globMatches('acme/*', 'acme/app'), true);
    assert.equal(globMatches('acme/*', 'acme/team/app'), true, '* spans /');
    assert.equal(globMatches('acme/*', 'acme/'), true, '* matches nothing too');
    assert.equal(globMatches('acme/*', 'acmex/app'), false);
    assert.equal(globMatches('v*', 'v1.2.3'), true);
    assert.equal(globMatches('v?', 'v1'), true);
    assert.equal(globMatches('v?', 'v12'), false);
    assert.equal(globMatches('*-rc', 'v1-rc'), true);
    assert.equal(globMatches('*-rc', 'v1-rc1'), false);
    assert.equal(globMatches('a.b', 'aXb'), false, '. is a dot');
    assert.equal(globMatches('', ''), true);
    assert.equal(globMatches('', 'x'), false);
    assert.equal(globMatches('*', ''), true);
    assert.equal(globMatches('**', 'abc'), true);
  });

  it('answers as the anchored RegExp does, over every short glob and text of a small alphabet', () => {
    const globs = words('ab*?', 4);
    const texts = words('ab', 5);
    for (const g of globs) for (const t of texts) assert.equal(globMatches(g, t), byRegExp(g, t), `${JSON.stringify(g)} against ${JSON.stringify(t)}`);
  });

  it('answers at once where the RegExp backtracks for minutes: a user-written pattern against a long name', { timeout: 10_000 }, () => {
    const name = `alice/${'a'.repeat(249)}`;
    assert.equal(globMatches('alice/*a*a*a*a*a*a*a*a*b', name), false);
    assert.equal(globMatches('*.*.*.*.*.*-rc', `${'1.'.repeat(63)}x`), false);
  });
});

/** Every word of up to `n` letters of `alphabet`. */
function words(alphabet: string, n: number): string[] {
  let level = [''];
  const all = [''];
  for (let i = 0; i < n; i++) {
    level = level.flatMap((w) => [...alphabet].map((c) => w + c));
    all.push(...level);
  }
  return all;
}
