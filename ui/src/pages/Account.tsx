/** /settings : the signed-in user's password, access tokens, docker logins and browser sessions. */
import { listTokens } from '../api/accounts.ts';
import type { Token } from '../api/types.ts';
import { CreateTokenForm } from '../account/CreateTokenForm.tsx';
import { PasswordForm } from '../account/PasswordForm.tsx';
import { TokensTable } from '../account/TokensTable.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { Loading } from '../components/Loading.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { SignInPrompt } from '../components/SignInPrompt.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { useSession } from '../lib/session.tsx';

const isAccess = (t: Token) => t.kind === 'pat';
const isLogin = (t: Token) => t.kind === 'refresh';

function Tokens({ user }: { user: string }) {
  const session = useSession();
  const tokens = useAsync((signal) => listTokens(user, signal), [user]);
  const all = tokens.data ?? [];
  const sessions = all.filter((t) => t.kind === 'session');
  return (
    <>
      <section class="section-block" aria-labelledby="tokens-title">
        <h2 id="tokens-title">Access tokens</h2>
        <p class="hint">
          For scripts, CI and <code>docker login</code>: a token is a password that can be limited to some repositories and revoked on its
          own.
        </p>
        <CreateTokenForm user={user} onCreated={tokens.reload} />
        <h3>Your tokens</h3>
        {tokens.error !== undefined ? (
          <ErrorNotice error={tokens.error} retry={tokens.reload} />
        ) : tokens.data === undefined ? (
          <Loading />
        ) : (
          <TokensTable user={user} tokens={all.filter(isAccess)} noun="token" caption="Access tokens" empty="No access tokens yet." onRevoked={tokens.reload} />
        )}
      </section>
      {tokens.data !== undefined && (
        <section class="section-block" aria-labelledby="logins-title">
          <h2 id="logins-title">Logins and sessions</h2>
          <h3>Logins (docker login)</h3>
          <TokensTable
            user={user}
            tokens={all.filter(isLogin)}
            noun="login"
            caption="Logins"
            empty="No docker logins."
            showScopes={false}
            onRevoked={tokens.reload}
          />
          <h3>Browser sessions</h3>
          <p class="hint">Revoking the session of this browser signs you out here.</p>
          <TokensTable
            user={user}
            tokens={sessions}
            noun="session"
            caption="Browser sessions"
            empty="No browser sessions."
            showScopes={false}
            onRevoked={() => {
              tokens.reload();
              void session.refresh();
            }}
          />
        </section>
      )}
    </>
  );
}

export default function AccountPage() {
  const { user, open, session } = useSession();
  if (session === undefined) return <Loading />;
  if (open || user === null) {
    return (
      <div class="page">
        <PageHeading>Account settings</PageHeading>
        {open ? <p class="notice">Open registry: no accounts yet, so there are no account settings.</p> : <SignInPrompt what="change your account" />}
      </div>
    );
  }
  return (
    <div class="page">
      <PageHeading>Account settings</PageHeading>
      <p>
        Signed in as <strong>{user.name}</strong>
        {user.admin && ' (administrator)'}.
      </p>
      <section class="section-block" aria-labelledby="password-title">
        <h2 id="password-title">Change password</h2>
        <PasswordForm user={user.name} />
      </section>
      <Tokens user={user.name} />
    </div>
  );
}
