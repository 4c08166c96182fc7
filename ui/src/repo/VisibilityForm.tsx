import { useState } from 'preact/hooks';
import { patchRepository } from '../api/repositories.ts';
import type { Repository, Visibility } from '../api/types.ts';
import { FormActions } from '../components/FormActions.tsx';
import { useFormAction } from '../hooks/useFormAction.ts';

/** Public or Private, for the repository's administrators. */
export function VisibilityForm({ repo, onSaved }: { repo: Repository; onSaved: (repo: Repository) => void }) {
  const form = useFormAction();
  const [visibility, setVisibility] = useState<Visibility>(repo.visibility);
  const options: [Visibility, string, string][] = [
    ['public', 'Public', 'Anyone can find and pull it, signed in or not.'],
    ['private', 'Private', 'Only you and those you give access can see and pull it.'],
  ];
  return (
    <form
      class="form"
      onSubmit={(e) => {
        e.preventDefault();
        void form.run(async () => onSaved(await patchRepository(repo.name, { visibility })), `${repo.name} is now ${visibility}`);
      }}
    >
      <fieldset>
        <legend class="sr-only">Visibility</legend>
        {options.map(([value, label, hint]) => (
          <div key={value}>
            <label class="radio">
              <input type="radio" name="visibility" value={value} checked={visibility === value} onChange={() => setVisibility(value)} aria-describedby={`vis-${value}-hint`} />
              {label}
            </label>
            <p id={`vis-${value}-hint`} class="hint radio-hint">
              {hint}
            </p>
          </div>
        ))}
      </fieldset>
      <FormActions form={form} submit="Save visibility" />
    </form>
  );
}
