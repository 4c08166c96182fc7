/**
 * Access scopes as Docker's token specification writes them: `repository:NAME:pull,push`,
 * `registry:catalog:*`. Names are checked with the same grammar as the routes, so a scope can
 * never name `..`, a wildcard or anything a route would refuse.
 */
import { isValidName } from '../registry/reference.ts';

export const REPOSITORY_ACTIONS = ['pull', 'push', 'delete'] as const;
export type RepositoryAction = (typeof REPOSITORY_ACTIONS)[number];

export interface RepositoryScope {
  type: 'repository';
  name: string;
  actions: RepositoryAction[];
}

/** `registry:catalog:*` (listing) and `registry:catalog:search` (docker search). */
export interface RegistryScope {
  type: 'registry';
  name: 'catalog';
  actions: ('*' | 'search')[];
}

export type Scope = RepositoryScope | RegistryScope;

export class ScopeInvalidError extends Error {
  readonly code = 'BERTH_SCOPE_INVALID';
}

function uniqueSorted<T extends string>(values: readonly T[], order: readonly T[]): T[] {
  return order.filter((a) => values.includes(a));
}

/**
 * Parse one scope. `*` on a repository means every action; unknown actions are dropped, as
 * distribution does. With `wildcards` (the scopes of an access token), a repository name may end
 * in `/*` for every repository under that prefix (`alice/*`); the prefix must itself be a valid name,
 * so a wildcard never reaches beyond a namespace it names.
 */
export function parseScope(text: string, wildcards = false): Scope {
  const last = text.lastIndexOf(':');
  const first = text.indexOf(':');
  if (first <= 0 || last === first) throw new ScopeInvalidError(`scope ${JSON.stringify(text)} is not type:name:actions`);
  // A resource type may carry a class: repository(plugin):name.
  const type = text.slice(0, first).replace(/\([a-z0-9]+\)$/, '');
  const name = text.slice(first + 1, last);
  const actions = text
    .slice(last + 1)
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (type === 'registry') {
    if (name !== 'catalog') throw new ScopeInvalidError(`unknown registry resource ${JSON.stringify(name)}`);
    const wanted = actions.filter((a): a is '*' | 'search' => a === '*' || a === 'search');
    return { type: 'registry', name: 'catalog', actions: uniqueSorted(wanted, ['*', 'search']) };
  }
  if (type !== 'repository') throw new ScopeInvalidError(`unknown resource type ${JSON.stringify(type)}`);
  const checked = wildcards && name.endsWith('/*') ? name.slice(0, -2) : name;
  if (!isValidName(checked)) throw new ScopeInvalidError(`invalid repository name ${JSON.stringify(name)} in scope`);
  const expanded = actions.includes('*') ? [...REPOSITORY_ACTIONS] : actions;
  const known = expanded.filter((a): a is RepositoryAction => (REPOSITORY_ACTIONS as readonly string[]).includes(a));
  return { type: 'repository', name, actions: uniqueSorted(known, REPOSITORY_ACTIONS) };
}

/** Parse a space- or comma-of-scopes list as docker sends it (several `scope` params, or one with spaces). */
export function parseScopes(values: readonly string[]): Scope[] {
  return values.flatMap((v) => v.split(' ')).filter((s) => s !== '').map((s) => parseScope(s));
}

export function formatScope(scope: Scope): string {
  return `${scope.type}:${scope.name}:${scope.actions.join(',')}`;
}

/** The namespace of a repository name: its first component (`alice` of `alice/app`), '' for a one-component name. */
export function namespaceOf(name: string): string {
  const slash = name.indexOf('/');
  return slash === -1 ? '' : name.slice(0, slash);
}
