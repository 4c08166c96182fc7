/**
 * Which repositories a caller may pull, as data a query can filter on: the catalog and search put
 * it in their SQL (never a filter after pagination), so counts, pages and timing only ever reflect
 * what the caller may see. AccessPolicy.visibleTo derives it from the same rules that decide a
 * single repository (policy.ts), so a rule changes in one place.
 */

export type AccessFilter =
  | { all: true }
  | {
      all: false;
      /** Visibility of a repository that has no settings yet (access.defaultvisibility). */
      defaultPublic: boolean;
      /** Every repository, private ones too (an administrator logged in with a scoped token: `restrict` cuts it down). */
      everyNamespace?: boolean;
      /** Namespaces whose every repository the caller may pull (their own, organisations they own or hold an org-wide role in). */
      namespaces: readonly string[];
      /** Single repositories the caller may pull (a team role on one repository). */
      repositories: readonly string[];
      /**
       * A scoped token's repository patterns (`alice/app`, `alice/*`) with pull: the private
       * repositories above are cut down to these. Undefined: no restriction.
       */
      restrict?: readonly string[];
    };

/** Administrators, the system, or access control off. */
export const SEE_EVERYTHING: AccessFilter = Object.freeze({ all: true });

/** What anonymous callers see: public repositories only. */
export function publicOnly(defaultPublic: boolean): AccessFilter {
  return { all: false, defaultPublic, namespaces: [], repositories: [] };
}
