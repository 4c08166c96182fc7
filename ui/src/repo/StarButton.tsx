import { useState } from 'preact/hooks';
import { setStar } from '../api/repositories.ts';
import { errorMessage } from '../api/messages.ts';
import { Link } from '../components/Link.tsx';
import { formatCount, plural } from '../lib/format.ts';
import { useSession } from '../lib/session.tsx';
import { useToasts } from '../lib/toasts.tsx';

interface Props {
  name: string;
  starred: boolean;
  count: number;
}

/**
 * A toggle button (WAI-ARIA's pattern: the name stays "Star", aria-pressed says whether it is on)
 * with the count in it; signed-out visitors get a hint instead.
 */
export function StarButton({ name, starred: initialStarred, count: initialCount }: Props) {
  const { user, open } = useSession();
  const { notify } = useToasts();
  const [starred, setStarred] = useState(initialStarred);
  const [count, setCount] = useState(initialCount);
  const [busy, setBusy] = useState(false);
  const signedOut = user === null;

  const toggle = async () => {
    setBusy(true);
    try {
      const answer = await setStar(name, !starred);
      setStarred(answer.starred);
      setCount(answer.starCount);
      notify(answer.starred ? `Starred ${name}` : `Removed your star from ${name}`);
    } catch (err) {
      notify(errorMessage(err), 'error');
    } finally {
      setBusy(false);
    }
  };

  return (
    <span class="star-box">
      <button
        type="button"
        class="button secondary small"
        aria-pressed={starred}
        disabled={signedOut || busy}
        aria-describedby={signedOut ? 'star-hint' : undefined}
        title={plural(count, 'star')}
        onClick={() => void toggle()}
      >
        <span aria-hidden="true">{starred ? '★' : '☆'}</span>
        Star
        <span class="star-count">{formatCount(count)}</span>
      </button>
      {signedOut && (
        <span id="star-hint" class="hint">
          {open ? (
            'Stars need an account.'
          ) : (
            <>
              <Link href={`/signin?next=${encodeURIComponent(`/r/${name}`)}`}>Sign in</Link> to star
            </>
          )}
        </span>
      )}
    </span>
  );
}
