import { useState } from 'preact/hooks';
import { changePassword } from '../api/accounts.ts';
import { FormActions } from '../components/FormActions.tsx';
import { useFormAction } from '../hooks/useFormAction.ts';
import { useSession } from '../lib/session.tsx';

/** Change one's own password; the server ends the other sessions and docker logins. */
export function PasswordForm({ user }: { user: string }) {
  const session = useSession();
  const form = useFormAction();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const mismatch = confirm !== '' && next !== confirm;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (next !== confirm) {
      form.setError('The new passwords do not match.');
      return;
    }
    const ok = await form.run(async () => {
      await changePassword(user, next, current);
      // The change ended this session too; the server opened a new one: fetch its CSRF token.
      await session.refresh();
    }, 'Password changed. Other sessions and docker logins were signed out.');
    if (ok) {
      setCurrent('');
      setNext('');
      setConfirm('');
    }
  };

  return (
    <form class="form" onSubmit={(e) => void submit(e)} aria-labelledby="password-title">
      <div class="field">
        <label for="pw-current">Current password</label>
        <input id="pw-current" type="password" autoComplete="current-password" required value={current} onInput={(e) => setCurrent(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="pw-new">New password</label>
        <input id="pw-new" type="password" autoComplete="new-password" required value={next} onInput={(e) => setNext(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="pw-confirm">Confirm new password</label>
        <input
          id="pw-confirm"
          type="password"
          autoComplete="new-password"
          required
          value={confirm}
          aria-invalid={mismatch}
          aria-describedby="pw-match"
          onInput={(e) => setConfirm(e.currentTarget.value)}
        />
        <p id="pw-match" class="hint">
          {mismatch ? 'The passwords do not match yet.' : 'Type the new password again.'}
        </p>
      </div>
      <FormActions form={form} submit="Change password" />
    </form>
  );
}
