import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatScope, namespaceOf, parseScope, parseScopes, ScopeInvalidError } from './scope.ts';

describe('scopes', () => {
  it('parses repository scopes, expanding * and dropping unknown actions', () => {
    assert.deepEqual(parseScope('repository:alice/app:pull,push'), { type: 'repository', name: 'alice/app', actions: ['pull', 'push'] });
    assert.deepEqual(parseScope('repository:alice/app:*').actions, ['pull', 'push', 'delete']);
    assert.deepEqual(parseScope('repository:alice/app:push,pull,fly').actions, ['pull', 'push']);
    assert.deepEqual(parseScope('repository(plugin):alice/app:pull').name, 'alice/app');
    assert.equal(formatScope(parseScope('repository:a/b:push,pull')), 'repository:a/b:pull,push');
  });

  it('parses the registry catalog scope', () => {
    assert.deepEqual(parseScope('registry:catalog:*'), { type: 'registry', name: 'catalog', actions: ['*'] });
    assert.deepEqual(parseScope('registry:catalog:search').actions, ['search']);
    assert.throws(() => parseScope('registry:other:*'), ScopeInvalidError);
  });

  it('refuses names the routes would refuse: no .., no wildcards, no empty components', () => {
    for (const bad of ['repository:../etc:pull', 'repository:alice/../bob:pull', 'repository:*:pull', 'repository:alice/*:pull', 'repository:Alice/app:pull', 'repository::pull', 'repository:a//b:pull', 'nothing', 'user:alice:pull']) {
      assert.throws(() => parseScope(bad), ScopeInvalidError, bad);
    }
  });

  it('allows a namespace wildcard only where asked (access tokens), and only as a whole last component', () => {
    assert.equal(parseScope('repository:alice/*:pull', true).name, 'alice/*');
    for (const bad of ['repository:*:pull', 'repository:/*:pull', 'repository:alice*:pull', 'repository:al*/x:pull', 'repository:../*:pull', 'repository:alice/**:pull']) {
      assert.throws(() => parseScope(bad, true), ScopeInvalidError, bad);
    }
  });

  it('reads several scope parameters and space-separated lists', () => {
    assert.deepEqual(
      parseScopes(['repository:a/b:pull repository:c/d:push', 'registry:catalog:*']).map(formatScope),
      ['repository:a/b:pull', 'repository:c/d:push', 'registry:catalog:*'],
    );
  });

  it('names the namespace of a repository', () => {
    assert.equal(namespaceOf('alice/app'), 'alice');
    assert.equal(namespaceOf('acme/team/app'), 'acme');
    assert.equal(namespaceOf('ubuntu'), '');
  });
});
