/**
 * The repositories a principal may pull, as an AccessFilter the index can put in its query. The
 * same rules as auth/policy.ts (which decides single repositories), gathered once per search:
 * admins see everything; anyone sees public repositories; a user sees their namespace, the
 * namespaces of organisations they own or hold an org-wide team role in, and the repositories their
 * teams hold a role on; a scoped access token cuts the private part down to its pull scopes.
 */
import { isAdmin, type Principal } from '../auth/principal.ts';
import type { AccountStore } from '../auth/store.ts';
import { isOfficialName, SEE_EVERYTHING, type AccessFilter } from './model.ts';

export async function accessFilter(principal: Principal, store: AccountStore, defaultPublic: boolean): Promise<AccessFilter> {
  if (isAdmin(principal)) return SEE_EVERYTHING;
  if (principal.kind !== 'user') return { all: false, defaultPublic, namespaces: [], repositories: [] };
  const namespaces = new Set<string>([principal.name]);
  const repositories = new Set<string>();
  if (principal.admin) namespaces.add('library');
  for (const org of await store.orgsOf(principal.name)) {
    if (isOfficialName(`${org}/x`)) continue;
    const access = await store.orgAccess(org, principal.name);
    if (access === undefined) continue;
    if (access.owner) namespaces.add(org);
    for (const { repository } of access.roles) {
      if (repository === '') namespaces.add(org);
      else repositories.add(repository);
    }
  }
  const filter: AccessFilter = { all: false, defaultPublic, namespaces: [...namespaces], repositories: [...repositories] };
  if (principal.restrict === undefined) return filter;
  const restrict = principal.restrict.filter((s) => s.type === 'repository' && s.actions.includes('pull')).map((s) => s.name);
  return { ...filter, restrict };
}
