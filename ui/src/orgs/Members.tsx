import { useState } from 'preact/hooks';
import { removeOrgMember, setOrgMember } from '../api/accounts.ts';
import type { Org, OrgMember } from '../api/types.ts';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { InlineSubmit } from '../components/FormActions.tsx';
import { Link } from '../components/Link.tsx';
import { SmallButton } from '../components/SmallButton.tsx';
import { Table } from '../components/Table.tsx';
import { useFormAction } from '../hooks/useFormAction.ts';
import { useRowAction } from '../hooks/useRowAction.ts';
import { useToasts } from '../lib/toasts.tsx';

export const memberName = (m: OrgMember) => m.user;

/** The organisation's members; owners add, promote and remove them. */
export function Members({ org, isOwner, onChange }: { org: Org; isOwner: boolean; onChange: () => void }) {
  const { notify } = useToasts();
  const form = useFormAction();
  const act = useRowAction(onChange);
  const [name, setName] = useState('');
  const [owner, setOwner] = useState(false);
  const [removing, setRemoving] = useState<string | undefined>(undefined);

  return (
    <section class="section-block" aria-labelledby="members-title">
      <h2 id="members-title">Members</h2>
      {org.members.length === 0 ? (
        <p class="empty">No members.</p>
      ) : (
        <Table
          actions={isOwner}
          head={
            <>
              <th scope="col">Name</th>
              <th scope="col">Owner</th>
            </>
          }
        >
          {org.members.map((m) => {
            const member = memberName(m);
            return (
              <tr key={member}>
                <th scope="row">
                  <Link href={`/u/${encodeURIComponent(member)}`}>{member}</Link>
                </th>
                <td>{m.owner ? 'Yes' : 'No'}</td>
                {isOwner && (
                  <td class="actions">
                    <SmallButton
                      label={m.owner ? `Remove owner role from ${member}` : `Make ${member} an owner`}
                      onClick={() =>
                        void act(
                          () => setOrgMember(org.name, member, !m.owner),
                          m.owner ? `${member} is no longer an owner` : `${member} is now an owner`,
                          `Could not change ${member}`,
                        )
                      }
                    >
                      {m.owner ? 'Remove owner role' : 'Make owner'}
                    </SmallButton>
                    <SmallButton danger label={`Remove member ${member}`} onClick={() => setRemoving(member)}>
                      Remove
                    </SmallButton>
                  </td>
                )}
              </tr>
            );
          })}
        </Table>
      )}
      {isOwner && (
        <form
          class="form-row add-form"
          aria-label="Add a member"
          onSubmit={(e) => {
            e.preventDefault();
            const who = name.trim();
            void form
              .run(() => setOrgMember(org.name, who, owner), `${who} added to ${org.name}`)
              .then((ok) => {
                if (!ok) return;
                setName('');
                setOwner(false);
                onChange();
              });
          }}
        >
          <div class="field">
            <label for="member-name">User name</label>
            <input id="member-name" required autoComplete="off" autoCapitalize="none" spellcheck={false} value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </div>
          <label class="checkbox">
            <input type="checkbox" checked={owner} onChange={(e) => setOwner(e.currentTarget.checked)} />
            Owner
          </label>
          <InlineSubmit form={form}>Add member</InlineSubmit>
        </form>
      )}
      {removing !== undefined && (
        <ConfirmDialog
          title={`Remove ${removing} from ${org.name}?`}
          confirmLabel="Remove"
          onClose={() => setRemoving(undefined)}
          onConfirm={async () => {
            await removeOrgMember(org.name, removing);
            notify(`${removing} removed from ${org.name}`);
            onChange();
          }}
        >
          <p>They lose what membership and its teams gave them in {org.name}.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
