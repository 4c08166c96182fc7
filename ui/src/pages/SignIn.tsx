/** /signin?next= : username and password, a browser session, then back where the user was. */
import { useState } from 'preact/hooks';
import { useLocation, useSearch } from 'wouter-preact';
import { signIn } from '../api/accounts.ts';
import { ApiError } from '../api/client.ts';
import { errorMessage } from '../api/messages.ts';
import { PageHeading } from '../components/PageHeading.tsx';
import { useSession } from '../lib/session.tsx';
import { useToasts } from '../lib/toasts.tsx';

/** Only paths inside the app: never another site (`//evil`, `https:`). */
function safeNext(raw: string | null): string {
  if (raw === null || !raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return '/';
  return raw.startsWith('/signin') ? '/' : raw;
}

export function SignInPage() {
  const params = new URLSearchParams(useSearch());
  const next = safeNext(params.get('next'));
  const [, navigate] = useLocation();
  const session = useSession();
  const { notify } = useToasts();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  if (session.open) {
    return (
      <div class="page narrow-page">
        <PageHeading>Sign in</PageHeading>
        <p class="notice">
          Open registry: no accounts yet, so there is nobody to sign in as. Create the first administrator on the server with{' '}
          <code>berth user add admin --admin</code>.
        </p>
      </div>
    );
  }

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError('');
    try {
      const answer = await signIn(username.trim(), password);
      session.signedIn(answer.user, answer.csrfToken);
      notify(`Signed in as ${answer.user.name}`);
      navigate(next);
    } catch (err) {
      setPassword('');
      setError(err instanceof ApiError && err.status === 401 ? 'Wrong username or password.' : errorMessage(err));
      setBusy(false);
    }
  };

  return (
    <div class="page narrow-page">
      <PageHeading>Sign in</PageHeading>
      {session.user !== null && <p class="notice">You are signed in as {session.user.name}. Signing in again switches accounts.</p>}
      <form class="form card" onSubmit={(e) => void submit(e)} aria-describedby="signin-error">
        <div class="field">
          <label for="signin-username">Username</label>
          <input
            id="signin-username"
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellcheck={false}
            required
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="signin-password">Password</label>
          <input
            id="signin-password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </div>
        <p id="signin-error" class="form-error" role="alert">
          {error}
        </p>
        <button type="submit" class="button" disabled={busy} aria-busy={busy}>
          Sign in
        </button>
      </form>
      <p class="hint">
        Accounts are created by an administrator. <code>docker login</code> uses the same user name and password (or an access
        token).
      </p>
    </div>
  );
}
