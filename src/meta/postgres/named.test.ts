import assert from 'node:assert/strict';
import { it } from 'node:test';
import { named } from './named.ts';

it('named parameters become positional, each name once, quotes and @@ left alone', () => {
  const { text, values } = named("SELECT '@not' AS a, x @@ q WHERE n = @name AND m > @last AND n <> @name", { name: 'a', last: 'b' });
  assert.equal(text, "SELECT '@not' AS a, x @@ q WHERE n = $1 AND m > $2 AND n <> $1");
  assert.deepEqual(values, ['a', 'b']);
  assert.throws(() => named('SELECT @missing', {}), /@missing has no value/);
});
