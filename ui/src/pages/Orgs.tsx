/** /orgs : my organisations (all of them for administrators), and a form to create one. */
import { useState } from 'preact/hooks';
import { useLocation } from 'wouter-preact';
import { createOrg, listOrgs } from '../api/accounts.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { FormActions } from '../components/FormActions.tsx';
import { Link } from '../components/Link.tsx';
import { Loading } from '../components/Loading.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { SignInPrompt } from '../components/SignInPrompt.tsx';
import { Time } from '../components/Time.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { useFormAction } from '../hooks/useFormAction.ts';
import { useSession } from '../lib/session.tsx';

function CreateOrgForm() {
  const form = useFormAction();
  const [, navigate] = useLocation();
  const { refresh } = useSession();
  const [name, setName] = useState('');
  return (
    <form
      class="form card"
      aria-labelledby="create-org-title"
      onSubmit={(e) => {
        e.preventDefault();
        const org = name.trim();
        void form
          .run(async () => {
            await createOrg(org);
            await refresh();
          }, `Organisation ${org} created`)
          .then((ok) => ok && navigate(`/orgs/${encodeURIComponent(org)}`));
      }}
    >
      <h2 id="create-org-title">Create an organisation</h2>
      <div class="field">
        <label for="org-name">Organisation name</label>
        <input id="org-name" required autoComplete="off" autoCapitalize="none" spellcheck={false} value={name} aria-describedby="org-name-hint" onInput={(e) => setName(e.currentTarget.value)} />
        <p id="org-name-hint" class="hint">
          Lower-case letters, digits and separators; its repositories are named <code>{name.trim() || 'name'}/…</code>. You will be its owner.
        </p>
      </div>
      <FormActions form={form} submit="Create organisation" />
    </form>
  );
}

export default function OrgsPage() {
  const { user, open, session } = useSession();
  const signedIn = user !== null && !open;
  const orgs = useAsync(signedIn ? (signal) => listOrgs(signal) : null, [signedIn]);
  if (session === undefined) return <Loading />;
  if (!signedIn) {
    return (
      <div class="page">
        <PageHeading>Organisations</PageHeading>
        {open ? <p class="notice">Open registry: no accounts yet, so there are no organisations.</p> : <SignInPrompt what="see your organisations" />}
      </div>
    );
  }
  return (
    <div class="page">
      <PageHeading>Organisations</PageHeading>
      <section class="section-block" aria-labelledby="my-orgs-title">
        <h2 id="my-orgs-title">{user.admin ? 'All organisations' : 'Your organisations'}</h2>
        {orgs.error !== undefined ? (
          <ErrorNotice error={orgs.error} retry={orgs.reload} />
        ) : orgs.data === undefined ? (
          <Loading />
        ) : orgs.data.length === 0 ? (
          <p class="empty">You are in no organisation yet.</p>
        ) : (
          <ul class="repo-list">
            {orgs.data.map((o) => (
              <li key={o.name} class="repo-card">
                <div class="repo-card-head">
                  <Link href={`/orgs/${encodeURIComponent(o.name)}`} class="repo-name">
                    {o.name}
                  </Link>
                </div>
                <p class="repo-stats">
                  <span>
                    Created <Time at={o.createdAt} />
                  </span>
                  <Link href={`/u/${encodeURIComponent(o.name)}`}>
                    Repositories<span class="sr-only"> of {o.name}</span>
                  </Link>
                </p>
              </li>
            ))}
          </ul>
        )}
      </section>
      <CreateOrgForm />
    </div>
  );
}
