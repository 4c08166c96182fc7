/**
 * Who is signed in, from GET /api/v1/session at start. With access control off (no accounts yet)
 * everybody may do everything and nobody signs in.
 */
import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { getSession } from '../api/accounts.ts';
import { setCsrfToken, UNAUTHORIZED_EVENT } from '../api/client.ts';
import type { RepositoryAction, Session, SessionUser } from '../api/types.ts';

export interface SessionState {
  /** undefined while the first GET /api/v1/session is under way. */
  session: Session | undefined;
  /** The first load failed: the UI still works for public content. */
  error: unknown;
  user: SessionUser | null;
  /** Access control is off: everything is allowed and there is nobody to sign in as. */
  open: boolean;
  isAdmin: boolean;
  signedIn(user: SessionUser, csrfToken: string): void;
  signedOut(): void;
  refresh(): Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ComponentChildren }) {
  const [session, setSession] = useState<Session | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);

  const refresh = useCallback(async () => {
    try {
      const s = await getSession();
      setCsrfToken(s.csrfToken);
      setSession(s);
      setError(undefined);
    } catch (err) {
      setError(err);
      setSession((prev) => prev ?? { user: null, csrfToken: null, accessControl: true });
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  // A 401 while someone seemed signed in: their session ended; ask again who we are.
  const signedIn = session?.user != null;
  useEffect(() => {
    if (!signedIn) return;
    const onUnauthorized = () => void refresh();
    window.addEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
  }, [signedIn, refresh]);

  const value = useMemo<SessionState>(() => {
    const open = session !== undefined && !session.accessControl;
    const user = session?.user ?? null;
    return {
      session,
      error,
      user,
      open,
      isAdmin: open || user?.admin === true,
      signedIn(u, csrfToken) {
        setCsrfToken(csrfToken);
        setSession({ user: u, csrfToken, accessControl: true });
      },
      signedOut() {
        setCsrfToken(null);
        setSession((prev) => ({ user: null, csrfToken: null, accessControl: prev?.accessControl ?? true }));
        void refresh();
      },
      refresh,
    };
  }, [session, error, refresh]);

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (state === null) throw new Error('useSession outside SessionProvider');
  return state;
}

/** Whether the caller may do `action` on a repository whose `actions` the API listed. */
export function may(state: SessionState, actions: readonly RepositoryAction[] | undefined, action: RepositoryAction): boolean {
  return state.open || (actions?.includes(action) ?? false);
}
