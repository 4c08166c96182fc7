import { useState } from 'preact/hooks';
import { addTeamMember, deleteTeam, removeTeamMember, setTeamPermission } from '../api/accounts.ts';
import type { Role, Team } from '../api/types.ts';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { Link, repoHref } from '../components/Link.tsx';
import { useFormAction } from '../hooks/useFormAction.ts';
import { useToasts } from '../lib/toasts.tsx';

const ROLES: Role[] = ['read', 'write', 'admin'];

interface Props {
  org: string;
  team: Team;
  /** For unique ids. */
  index: number;
  isOwner: boolean;
  onChange: () => void;
}

/** "app" and "acme/app" both name acme/app; '' is every repository of the organisation. */
function fullRepository(org: string, input: string): string {
  const name = input.trim();
  if (name === '' || name === '*') return '';
  return name.startsWith(`${org}/`) ? name : `${org}/${name}`;
}

/** One team: members, permissions, and (for owners) the forms that change them. */
export function TeamCard({ org, team, index, isOwner, onChange }: Props) {
  const { notify } = useToasts();
  const memberForm = useFormAction();
  const grantForm = useFormAction();
  const [member, setMember] = useState('');
  const [repository, setRepository] = useState('');
  const [role, setRole] = useState<Role>('read');
  const [deleting, setDeleting] = useState(false);
  const id = `team-${index}`;

  const act = (action: () => Promise<void>, done: string) =>
    action().then(
      () => {
        notify(done);
        onChange();
      },
      () => notify(`Could not change team ${team.name}`, 'error'),
    );

  return (
    <section class="card team" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{team.name}</h3>
      <h4>Members</h4>
      {team.members.length === 0 ? (
        <p class="empty">No members.</p>
      ) : (
        <ul class="plain-list">
          {team.members.map((m) => (
            <li key={m}>
              <Link href={`/u/${encodeURIComponent(m)}`}>{m}</Link>
              {isOwner && (
                <button
                  type="button"
                  class="button secondary small"
                  aria-label={`Remove ${m} from team ${team.name}`}
                  onClick={() => void act(() => removeTeamMember(org, team.name, m), `${m} left ${team.name}`)}
                >
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {isOwner && (
        <form
          class="form-row add-form"
          aria-label={`Add a member to team ${team.name}`}
          onSubmit={(e) => {
            e.preventDefault();
            const who = member.trim();
            void memberForm.run(() => addTeamMember(org, team.name, who), `${who} joined ${team.name}`).then((ok) => {
              if (!ok) return;
              setMember('');
              onChange();
            });
          }}
        >
          <div class="field">
            <label for={`${id}-member`}>New member of team {team.name}</label>
            <input id={`${id}-member`} required autoComplete="off" autoCapitalize="none" spellcheck={false} value={member} onInput={(e) => setMember(e.currentTarget.value)} />
          </div>
          <button type="submit" class="button secondary" disabled={memberForm.busy}>
            Add to team {team.name}
          </button>
          <p class="form-error" role="alert">
            {memberForm.error}
          </p>
        </form>
      )}
      <h4>Permissions</h4>
      {team.permissions.length === 0 ? (
        <p class="empty">No permissions yet.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Repository</th>
                <th scope="col">Role</th>
                {isOwner && (
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {team.permissions.map((p) => {
                const what = p.repository === '' ? 'all repositories' : p.repository;
                return (
                  <tr key={p.repository}>
                    <th scope="row">{p.repository === '' ? `All repositories of ${org}` : <Link href={repoHref(p.repository)}>{p.repository}</Link>}</th>
                    <td>{p.role}</td>
                    {isOwner && (
                      <td>
                        <button
                          type="button"
                          class="button danger-outline small"
                          aria-label={`Revoke ${p.role} on ${what} from team ${team.name}`}
                          onClick={() => void act(() => setTeamPermission(org, team.name, p.repository, null), `${team.name} no longer has ${p.role} on ${what}`)}
                        >
                          Revoke
                        </button>
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {isOwner && (
        <>
          <form
            class="form-row add-form"
            aria-label={`Grant team ${team.name} a permission`}
            onSubmit={(e) => {
              e.preventDefault();
              const repo = fullRepository(org, repository);
              void grantForm
                .run(() => setTeamPermission(org, team.name, repo, role), `${team.name} has ${role} on ${repo === '' ? 'all repositories' : repo}`)
                .then((ok) => {
                  if (!ok) return;
                  setRepository('');
                  onChange();
                });
            }}
          >
            <div class="field">
              <label for={`${id}-repo`}>Repository (empty for all)</label>
              <input
                id={`${id}-repo`}
                autoComplete="off"
                autoCapitalize="none"
                spellcheck={false}
                placeholder={`${org}/app`}
                value={repository}
                onInput={(e) => setRepository(e.currentTarget.value)}
              />
            </div>
            <div class="field narrow-field">
              <label for={`${id}-role`}>Role</label>
              <select id={`${id}-role`} value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
                {ROLES.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            </div>
            <button type="submit" class="button secondary" disabled={grantForm.busy}>
              Grant
            </button>
            <p class="form-error" role="alert">
              {grantForm.error}
            </p>
          </form>
          <p>
            <button type="button" class="button danger-outline small" onClick={() => setDeleting(true)}>
              Delete team {team.name}
            </button>
          </p>
        </>
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete team ${team.name}?`}
          confirmLabel="Delete"
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            await deleteTeam(org, team.name);
            notify(`Team ${team.name} deleted`);
            onChange();
          }}
        >
          <p>Its members lose what the team gave them.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
