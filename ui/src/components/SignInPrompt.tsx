import { useLocation, useSearch } from 'wouter-preact';
import { Link } from './Link.tsx';
import { useSession } from '../lib/session.tsx';

/** Shown where a page answered 401: a link to sign in that comes back here. */
export function SignInPrompt({ what = 'see this page' }: { what?: string }) {
  const [path] = useLocation();
  const search = useSearch();
  const { open } = useSession();
  const next = search === '' ? path : `${path}?${search}`;
  if (open) return <p class="notice">This registry has no accounts yet, and this page needs one.</p>;
  return (
    <div class="notice" role="alert">
      <p>
        You need to sign in to {what}. <Link href={`/signin?next=${encodeURIComponent(next)}`}>Sign in</Link>
      </p>
    </div>
  );
}
