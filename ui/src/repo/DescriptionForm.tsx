import { useState } from 'preact/hooks';
import { patchRepository } from '../api/repositories.ts';
import type { Repository } from '../api/types.ts';
import { FormActions } from '../components/FormActions.tsx';
import { lazyPage } from '../components/Lazy.tsx';
import { useFormAction } from '../hooks/useFormAction.ts';

// The Markdown renderer (marked + DOMPurify) loads only when a preview is asked for.
const Markdown = lazyPage<{ source: string; headingOffset?: number }>(() => import('../components/Markdown.tsx').then((m) => ({ default: m.Markdown })));

const MAX_SHORT = 200;
const MAX_FULL = 25_000;

/** The one-line description (searched) and the Markdown README, for the repository's writers. */
export function DescriptionForm({ repo, onSaved }: { repo: Repository; onSaved: (repo: Repository) => void }) {
  const form = useFormAction();
  const [short, setShort] = useState(repo.description ?? '');
  const [full, setFull] = useState(repo.fullDescription ?? '');
  const [preview, setPreview] = useState(false);

  return (
    <form
      class="form wide-form"
      onSubmit={(e) => {
        e.preventDefault();
        void form.run(async () => onSaved(await patchRepository(repo.name, { description: short.trim(), fullDescription: full })), 'Descriptions saved');
      }}
    >
      <div class="field">
        <label for="repo-short">Short description</label>
        <input
          id="repo-short"
          maxLength={MAX_SHORT}
          value={short}
          aria-describedby="repo-short-hint"
          onInput={(e) => setShort(e.currentTarget.value.replace(/[\r\n]+/g, ' '))}
        />
        <p id="repo-short-hint" class="hint">
          One line, up to {MAX_SHORT} characters; search looks at it. {short.length}/{MAX_SHORT}
        </p>
      </div>
      <div class="field">
        <label for="repo-full">Full description (Markdown)</label>
        <textarea
          id="repo-full"
          class="mono"
          rows={14}
          maxLength={MAX_FULL}
          value={full}
          aria-describedby="repo-full-hint"
          onInput={(e) => setFull(e.currentTarget.value)}
        />
        <p id="repo-full-hint" class="hint">
          Shown on the repository page. HTML is cleaned and scripts removed. {full.length.toLocaleString('en')}/{MAX_FULL.toLocaleString('en')}
        </p>
      </div>
      <FormActions form={form} submit="Save descriptions">
        <button type="button" class="button secondary" aria-expanded={preview} aria-controls="repo-preview" onClick={() => setPreview((p) => !p)}>
          {preview ? 'Hide preview' : 'Preview'}
        </button>
      </FormActions>
      {preview && (
        <section id="repo-preview" class="card side-box" aria-label="Preview of the full description">
          {full.trim() === '' ? <p class="empty">Nothing to preview.</p> : <Markdown source={full} headingOffset={2} />}
        </section>
      )}
    </form>
  );
}
