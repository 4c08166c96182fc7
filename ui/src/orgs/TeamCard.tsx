import { useState } from 'preact/hooks';
import { addTeamMember, deleteTeam, removeTeamMember, setTeamPermission } from '../api/accounts.ts';
import type { Role, Team } from '../api/types.ts';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { InlineSubmit } from '../components/FormActions.tsx';
import { Link, repoHref } from '../components/Link.tsx';
import { SmallButton } from '../components/SmallButton.tsx';
import { Table } from '../components/Table.tsx';
import { useFormAction } from '../hooks/useFormAction.ts';
import { useRowAction } from '../hooks/useRowAction.ts';
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

  const change = useRowAction(onChange);
  const act = (action: () => Promise<void>, done: string) => change(action, done, `Could not change team ${team.name}`);

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
                <SmallButton label={`Remove ${m} from team ${team.name}`} onClick={() => void act(() => removeTeamMember(org, team.name, m), `${m} left ${team.name}`)}>
                  Remove
                </SmallButton>
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
          <InlineSubmit form={memberForm} secondary>
            Add to team {team.name}
          </InlineSubmit>
        </form>
      )}
      <h4>Permissions</h4>
      {team.permissions.length === 0 ? (
        <p class="empty">No permissions yet.</p>
      ) : (
        <Table
          actions={isOwner}
          head={
            <>
              <th scope="col">Repository</th>
              <th scope="col">Role</th>
            </>
          }
        >
          {team.permissions.map((p) => {
            const what = p.repository === '' ? 'all repositories' : p.repository;
            return (
              <tr key={p.repository}>
                <th scope="row">{p.repository === '' ? `All repositories of ${org}` : <Link href={repoHref(p.repository)}>{p.repository}</Link>}</th>
                <td>{p.role}</td>
                {isOwner && (
                  <td>
                    <SmallButton
                      danger
                      label={`Revoke ${p.role} on ${what} from team ${team.name}`}
                      onClick={() => void act(() => setTeamPermission(org, team.name, p.repository, null), `${team.name} no longer has ${p.role} on ${what}`)}
                    >
                      Revoke
                    </SmallButton>
                  </td>
                )}
              </tr>
            );
          })}
        </Table>
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
            <InlineSubmit form={grantForm} secondary>
              Grant
            </InlineSubmit>
          </form>
          <p>
            <SmallButton danger onClick={() => setDeleting(true)}>
              Delete team {team.name}
            </SmallButton>
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
