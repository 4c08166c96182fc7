/** Issue 13, item 6: `printf 'pw\npw\n' | berth user add alice` stored both lines as the password. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { passwordFromInput } from './account-context.ts';
import { UsageError } from './args.ts';

describe('a password piped to the CLI', () => {
  it('with --password-stdin is the first line, as docker login --password-stdin reads it', () => {
    assert.equal(passwordFromInput('secret-one\n', true), 'secret-one');
    assert.equal(passwordFromInput('secret-one', true), 'secret-one');
    assert.equal(passwordFromInput('secret-one\r\nsecret-one\n', true), 'secret-one');
    assert.throws(() => passwordFromInput('', true), UsageError);
    assert.throws(() => passwordFromInput('\n', true), /no password on standard input/);
  });

  it('without it is read as the prompt reads a terminal: the password, then the same again', () => {
    assert.equal(passwordFromInput('pw-long-enough\npw-long-enough\n', false), 'pw-long-enough');
    assert.equal(passwordFromInput('pw-long-enough\r\npw-long-enough', false), 'pw-long-enough');
    assert.throws(() => passwordFromInput('pw-long-enough\nother-password\n', false), /the passwords do not match/);
    assert.throws(() => passwordFromInput('pw-long-enough\n', false), /pipe the password twice.*or once with --password-stdin/);
    assert.throws(() => passwordFromInput('a\na\na\n', false), UsageError);
  });

  it('keeps spaces inside and around a password: only line ends are taken off', () => {
    assert.equal(passwordFromInput(' two words \n', true), ' two words ');
  });
});
