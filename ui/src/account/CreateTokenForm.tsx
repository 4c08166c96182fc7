import { useState } from 'preact/hooks';
import { createToken } from '../api/accounts.ts';
import type { CreatedToken } from '../api/types.ts';
import { CopyButton } from '../components/CopyButton.tsx';
import { FormActions } from '../components/FormActions.tsx';
import { SmallButton } from '../components/SmallButton.tsx';
import { useFormAction } from '../hooks/useFormAction.ts';

const EXPIRIES: [string, string][] = [
  ['7d', '7 days'],
  ['30d', '30 days'],
  ['90d', '90 days'],
  ['365d', '1 year'],
  ['', 'Never'],
];

/** A new access token; its secret is shown once, right here. */
export function CreateTokenForm({ user, onCreated }: { user: string; onCreated: () => void }) {
  const form = useFormAction();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState('');
  const [expires, setExpires] = useState('30d');
  const [password, setPassword] = useState('');
  const [created, setCreated] = useState<CreatedToken | undefined>(undefined);

  const submit = async (e: Event) => {
    e.preventDefault();
    const list = scopes
      .split('\n')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    await form.run(async () => {
      const token = await createToken(user, {
        name: name.trim(),
        scopes: list.length === 0 ? null : list,
        ...(expires !== '' && { expiresIn: expires }),
        currentPassword: password,
      });
      setCreated(token);
      setName('');
      setScopes('');
      setPassword('');
      onCreated();
    }, 'Token created');
  };

  return (
    <>
      {created !== undefined && (
        <div class="secret-box" role="region" aria-labelledby="secret-title">
          <h3 id="secret-title">Copy your new token now</h3>
          <p>
            This is the only time <strong>{created.name}</strong> is shown. Use it as the password with your user name, e.g.{' '}
            <code>docker login -u {user}</code>.
          </p>
          <div class="copy-row">
            <code id="new-token-secret">{created.secret}</code>
            <CopyButton text={created.secret} />
          </div>
          <p class="hint">It won't be shown again: if you lose it, revoke it and create another.</p>
          <SmallButton onClick={() => setCreated(undefined)}>Done</SmallButton>
        </div>
      )}
      <form class="form card" onSubmit={(e) => void submit(e)} aria-labelledby="create-token-title">
        <h3 id="create-token-title">Create token</h3>
        <div class="field">
          <label for="token-name">Token name</label>
          <input id="token-name" required maxLength={100} value={name} autoComplete="off" onInput={(e) => setName(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="token-scopes">Scopes (one per line, e.g. repository:alice/app:pull)</label>
          <textarea
            id="token-scopes"
            class="mono"
            rows={3}
            spellcheck={false}
            aria-describedby="token-scopes-hint"
            value={scopes}
            onInput={(e) => setScopes(e.currentTarget.value)}
          />
          <p id="token-scopes-hint" class="hint">
            Empty for full access: everything your account may do. <code>repository:NAME:pull,push</code> allows several actions.
          </p>
        </div>
        <div class="field">
          <label for="token-expires">Expires</label>
          <select id="token-expires" value={expires} onChange={(e) => setExpires(e.currentTarget.value)}>
            {EXPIRIES.map(([value, label]) => (
              <option key={label} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="token-password">Your password</label>
          <input
            id="token-password"
            type="password"
            required
            autoComplete="current-password"
            aria-describedby="token-password-hint"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
          <p id="token-password-hint" class="hint">
            A token outlives this sign-in, so creating one asks for your password again.
          </p>
        </div>
        <FormActions form={form} submit="Create token" />
      </form>
    </>
  );
}
