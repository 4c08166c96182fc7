import { useState } from 'preact/hooks';
import { revokeToken } from '../api/accounts.ts';
import type { Token } from '../api/types.ts';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { SmallButton } from '../components/SmallButton.tsx';
import { Table } from '../components/Table.tsx';
import { Time } from '../components/Time.tsx';
import { useToasts } from '../lib/toasts.tsx';

interface Props {
  user: string;
  tokens: Token[];
  /** "token", "login" or "session": in the buttons' names ("Revoke token ci") and the dialog. */
  noun: string;
  caption: string;
  empty: string;
  showScopes?: boolean;
  onRevoked: (token: Token) => void;
}

/** Tokens of one kind with their dates and a Revoke button each (confirmed in a dialog). */
export function TokensTable({ user, tokens, noun, caption, empty, showScopes = true, onRevoked }: Props) {
  const { notify } = useToasts();
  const [revoking, setRevoking] = useState<Token | undefined>(undefined);
  if (tokens.length === 0) return <p class="empty">{empty}</p>;
  return (
    <>
      <Table
        caption={caption}
        hideCaption
        actions
        head={
          <>
            <th scope="col">Name</th>
            {showScopes && <th scope="col">Scopes</th>}
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
          </>
        }
      >
        {tokens.map((t) => (
          <tr key={t.id}>
            <th scope="row">{t.name}</th>
            {showScopes && (
              <td>
                {t.scopes === null || t.scopes.length === 0 ? (
                  'Full access'
                ) : (
                  <ul class="chip-list">
                    {t.scopes.map((s) => (
                      <li key={s}>{s}</li>
                    ))}
                  </ul>
                )}
              </td>
            )}
            <td class="nowrap">
              <Time at={t.createdAt} />
            </td>
            <td class="nowrap">
              <Time at={t.expiresAt} fallback="Never" />
            </td>
            <td class="nowrap">
              <Time at={t.lastUsedAt} fallback="Never" />
            </td>
            <td>
              <SmallButton danger label={`Revoke ${noun} ${t.name}`} onClick={() => setRevoking(t)}>
                Revoke
              </SmallButton>
            </td>
          </tr>
        ))}
      </Table>
      {revoking !== undefined && (
        <ConfirmDialog
          title={`Revoke ${noun} ${revoking.name}?`}
          confirmLabel="Revoke"
          onClose={() => setRevoking(undefined)}
          onConfirm={async () => {
            await revokeToken(user, revoking.id);
            notify(`Revoked ${noun} ${revoking.name}`);
            onRevoked(revoking);
          }}
        >
          <p>Anything still using it stops working at once.</p>
        </ConfirmDialog>
      )}
    </>
  );
}
