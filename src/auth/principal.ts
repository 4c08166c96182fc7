/** Who is asking: nobody, a user (by password, token or htpasswd), or the operator's CLI. */
import type { Scope } from './scope.ts';

export type Principal =
  | { kind: 'anonymous' }
  | {
      kind: 'user';
      name: string;
      admin: boolean;
      /** The scopes of the access token used to log in, when it was one: the user's rights are cut down to these. */
      restrict?: readonly Scope[];
      /** How the user proved who they are. */
      via: 'password' | 'token' | 'htpasswd' | 'bearer' | 'session';
    }
  /** The CLI on the server's own machine, acting with every right. */
  | { kind: 'system' };

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' });
export const SYSTEM: Principal = Object.freeze({ kind: 'system' });

export function isAdmin(p: Principal): boolean {
  return p.kind === 'system' || (p.kind === 'user' && p.admin && p.restrict === undefined);
}

/** The name to show for a principal in logs and events. */
export function principalName(p: Principal): string {
  return p.kind === 'user' ? p.name : p.kind === 'system' ? '(system)' : '(anonymous)';
}
