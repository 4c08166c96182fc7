import { useState } from 'preact/hooks';
import { createUser, deleteUser, listUsers, setAdmin } from '../api/accounts.ts';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { FormActions } from '../components/FormActions.tsx';
import { Loading } from '../components/Loading.tsx';
import { SmallButton } from '../components/SmallButton.tsx';
import { Table } from '../components/Table.tsx';
import { Time } from '../components/Time.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { useFormAction } from '../hooks/useFormAction.ts';
import { useRowAction } from '../hooks/useRowAction.ts';
import { useSession } from '../lib/session.tsx';
import { useToasts } from '../lib/toasts.tsx';

function CreateUserForm({ onCreated }: { onCreated: () => void }) {
  const form = useFormAction();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [admin, setAdmin] = useState(false);
  return (
    <form
      class="form card"
      aria-labelledby="create-user-title"
      onSubmit={(e) => {
        e.preventDefault();
        const who = name.trim();
        void form.run(() => createUser(who, password, admin).then(() => undefined), `User ${who} created`).then((ok) => {
          if (!ok) return;
          setName('');
          setPassword('');
          setAdmin(false);
          onCreated();
        });
      }}
    >
      <h3 id="create-user-title">Create a user</h3>
      <div class="field">
        <label for="new-user-name">New user name</label>
        <input id="new-user-name" required autoComplete="off" autoCapitalize="none" spellcheck={false} value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="new-user-password">Initial password</label>
        <input
          id="new-user-password"
          type="password"
          required
          autoComplete="new-password"
          value={password}
          aria-describedby="new-user-password-hint"
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <p id="new-user-password-hint" class="hint">
          Give it to the user, who can change it in their account settings.
        </p>
      </div>
      <label class="checkbox">
        <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.currentTarget.checked)} />
        Administrator
      </label>
      <FormActions form={form} submit="Create user" />
    </form>
  );
}

/** Every account, with Create and Delete. */
export function Users() {
  const { open, user } = useSession();
  const { notify } = useToasts();
  const users = useAsync(open ? null : (signal) => listUsers(signal), [open]);
  const [deleting, setDeleting] = useState<string | undefined>(undefined);
  const act = useRowAction(users.reload);

  return (
    <section class="section-block" aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      {open ? (
        <p class="notice">
          Open registry: no accounts yet. Create the first administrator on the server with <code>berth user add admin --admin</code>; access
          control starts with it.
        </p>
      ) : users.error !== undefined ? (
        <ErrorNotice error={users.error} retry={users.reload} />
      ) : users.data === undefined ? (
        <Loading />
      ) : (
        <>
          <Table
            caption="Users"
            hideCaption
            actions
            head={
              <>
                <th scope="col">Name</th>
                <th scope="col">Administrator</th>
                <th scope="col">Created</th>
              </>
            }
          >
            {users.data.map((u) => (
              <tr key={u.name}>
                <td>{u.name}</td>
                <td>{u.admin ? 'Yes' : 'No'}</td>
                <td class="nowrap">
                  <Time at={u.createdAt} />
                </td>
                <td class="row-actions">
                  {u.name !== user?.name && (
                    <>
                      <SmallButton
                        label={u.admin ? `Remove administrator rights from ${u.name}` : `Make ${u.name} an administrator`}
                        onClick={() =>
                          void act(
                            () => setAdmin(u.name, !u.admin),
                            u.admin ? `${u.name} is no longer an administrator` : `${u.name} is now an administrator`,
                            `Could not change ${u.name}`,
                          )
                        }
                      >
                        {u.admin ? 'Remove admin' : 'Make admin'}
                      </SmallButton>{' '}
                      <SmallButton danger label={`Delete user ${u.name}`} onClick={() => setDeleting(u.name)}>
                        Delete
                      </SmallButton>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </Table>
          <CreateUserForm onCreated={users.reload} />
        </>
      )}
      {deleting !== undefined && (
        <ConfirmDialog
          title={`Delete user ${deleting}?`}
          confirmLabel="Delete"
          onClose={() => setDeleting(undefined)}
          onConfirm={async () => {
            await deleteUser(deleting);
            notify(`User ${deleting} deleted`);
            users.reload();
          }}
        >
          <p>Their tokens, logins and sessions end. Their repositories stay; an administrator can give the namespace a new owner.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
