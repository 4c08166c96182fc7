import { Link } from '../components/Link.tsx';
import type { SessionUser } from '../api/types.ts';

/** What an administration page says to anyone else: sign in as an administrator (coming back to `next`), or who they are. */
export function AdminsOnly({ user, next }: { user: SessionUser | null; next: string }) {
  return (
    <p class="notice">
      Administrators only.{' '}
      {user === null ? (
        <>
          <Link href={`/signin?next=${encodeURIComponent(next)}`}>Sign in</Link> as an administrator to see this page.
        </>
      ) : (
        `You are signed in as ${user.name}, who is not an administrator.`
      )}
    </p>
  );
}
