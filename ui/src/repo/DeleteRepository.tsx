import { useState } from 'preact/hooks';
import { useLocation } from 'wouter-preact';
import { deleteRepository } from '../api/repositories.ts';
import { useFormAction } from '../hooks/useFormAction.ts';

/** The danger zone: typing the name unlocks deleting every tag and manifest of the repository. */
export function DeleteRepository({ name, namespace }: { name: string; namespace: string }) {
  const form = useFormAction();
  const [, navigate] = useLocation();
  const [typed, setTyped] = useState('');
  const matches = typed.trim() === name;
  return (
    <section class="danger-zone" aria-labelledby="danger-title">
      <h2 id="danger-title">Delete repository</h2>
      <p>
        Every tag and manifest of <strong>{name}</strong> is removed. This cannot be undone. Its layers are freed by a later
        garbage collection, once nothing else references them and the grace period has passed.
      </p>
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!matches) return;
          void form
            .run(() => deleteRepository(name), `${name} deleted`)
            .then((ok) => ok && navigate(namespace === '' ? '/' : `/u/${encodeURIComponent(namespace)}`));
        }}
      >
        <div class="field">
          <label for="delete-confirm">Type the repository name to confirm</label>
          <input id="delete-confirm" autoComplete="off" spellcheck={false} autoCapitalize="none" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
        </div>
        <p class="form-error" role="alert">
          {form.error}
        </p>
        <div class="actions">
          <button type="submit" class="button danger" disabled={!matches || form.busy} aria-busy={form.busy}>
            Delete repository
          </button>
        </div>
      </form>
    </section>
  );
}
