/** /orgs/:org : members, teams and permissions of an organisation, and its repositories. */
import { useState } from 'preact/hooks';
import { createTeam, getOrg } from '../api/accounts.ts';
import { search } from '../api/repositories.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { InlineSubmit } from '../components/FormActions.tsx';
import { Link } from '../components/Link.tsx';
import { Loading } from '../components/Loading.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { RepoList } from '../components/RepoList.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { useFormAction } from '../hooks/useFormAction.ts';
import { formatNumber } from '../lib/format.ts';
import { useSession } from '../lib/session.tsx';
import { memberName, Members } from '../orgs/Members.tsx';
import { TeamCard } from '../orgs/TeamCard.tsx';
import { DeleteOrg } from '../orgs/DeleteOrg.tsx';
import { NamespaceStorage } from '../quota/NamespaceStorage.tsx';
import { NamespaceRetention } from '../retention/NamespaceRetention.tsx';

function CreateTeamForm({ org, onCreated }: { org: string; onCreated: () => void }) {
  const form = useFormAction();
  const [name, setName] = useState('');
  return (
    <form
      class="form-row add-form"
      aria-label="Create a team"
      onSubmit={(e) => {
        e.preventDefault();
        const team = name.trim();
        void form.run(() => createTeam(org, team), `Team ${team} created`).then((ok) => {
          if (!ok) return;
          setName('');
          onCreated();
        });
      }}
    >
      <div class="field">
        <label for="team-name">Team name</label>
        <input id="team-name" required autoComplete="off" autoCapitalize="none" spellcheck={false} value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </div>
      <InlineSubmit form={form}>Create team</InlineSubmit>
    </form>
  );
}

function Repositories({ org }: { org: string }) {
  const repos = useAsync((signal) => search({ namespace: org, sort: 'updated', per_page: 10 }, signal), [org]);
  return (
    <section class="section-block" aria-labelledby="org-repos-title">
      <h2 id="org-repos-title">Repositories</h2>
      {repos.error !== undefined ? (
        <ErrorNotice error={repos.error} retry={repos.reload} />
      ) : repos.data === undefined ? (
        <Loading />
      ) : (
        <>
          <RepoList repos={repos.data.results} compact showPublic empty={`No repositories in ${org} yet.`} />
          <p>
            <Link href={`/u/${encodeURIComponent(org)}`}>
              All repositories of {org} ({formatNumber(repos.data.total)})
            </Link>
          </p>
        </>
      )}
    </section>
  );
}

export default function OrgPage({ params }: { params: { org?: string } }) {
  const name = params.org ?? '';
  const { user, open, session } = useSession();
  const org = useAsync((signal) => getOrg(name, signal), [name]);

  if (org.error !== undefined) {
    return (
      <div class="page">
        <PageHeading>{open ? 'Organisations' : `Organisation ${name}`}</PageHeading>
        <ErrorNotice error={org.error} retry={org.reload} what="see this organisation" />
      </div>
    );
  }
  const data = org.data;
  const isOwner = user !== null && (user.admin || (data?.members.some((m) => memberName(m) === user.name && m.owner) ?? false));
  return (
    <div class="page">
      <PageHeading>{name}</PageHeading>
      <p class="lead">Organisation</p>
      {data === undefined || session === undefined ? (
        <Loading />
      ) : (
        <>
          <Members org={data} isOwner={isOwner} onChange={org.reload} />
          <section class="section-block" aria-labelledby="teams-title">
            <h2 id="teams-title">Teams</h2>
            {data.teams.length === 0 && <p class="empty">No teams yet.</p>}
            {data.teams.map((t, i) => (
              <TeamCard key={t.name} org={name} team={t} index={i} isOwner={isOwner} onChange={org.reload} />
            ))}
            {isOwner && <CreateTeamForm org={name} onCreated={org.reload} />}
          </section>
          <Repositories org={name} />
          <NamespaceStorage namespace={name} />
          {isOwner && <NamespaceRetention namespace={name} />}
          {isOwner && <DeleteOrg org={name} />}
        </>
      )}
    </div>
  );
}
