/** The form of a retention policy's rules, shared by a repository's and an organisation's settings. */
import { useState } from 'preact/hooks';
import { deleteRetentionPolicy, putRetentionPolicy, type EffectivePolicy, type RetentionPolicy } from '../api/retention.ts';
import { FormActions } from '../components/FormActions.tsx';
import { useFormAction } from '../hooks/useFormAction.ts';

/** A policy's rules in words. */
export function describe(p: RetentionPolicy): string {
  const rules: string[] = [];
  if (p.keep.newest !== undefined) rules.push(`keep the newest ${p.keep.newest}`);
  if (p.keep.tags.length > 0) rules.push(`keep tags matching ${p.keep.tags.join(' or ')}`);
  if (p.delete.notpulledfor !== undefined) rules.push(`delete tags not pulled for ${p.delete.notpulledfor}`);
  if (p.delete.untaggedafter !== undefined) rules.push(`delete untagged manifests after ${p.delete.untaggedafter}`);
  return rules.length === 0 ? 'no rule: nothing is deleted' : rules.join('; ');
}

/**
 * The rules of the policy of `pattern` (a repository name or `ns/*`), set through the API, with
 * Remove when `own` is the policy stored for exactly that pattern.
 */
export function PolicyForm({ pattern, own, onSaved }: { pattern: string; own: EffectivePolicy | undefined; onSaved: () => void }) {
  const form = useFormAction();
  const [newest, setNewest] = useState(own?.keep.newest?.toString() ?? '');
  const [tags, setTags] = useState(own?.keep.tags.join('\n') ?? '');
  const [notPulled, setNotPulled] = useState(own?.delete.notpulledfor ?? '');
  const [untagged, setUntagged] = useState(own?.delete.untaggedafter ?? '');
  const policy = (): RetentionPolicy => ({
    repository: pattern,
    keep: {
      ...(newest.trim() !== '' && { newest: Number(newest) }),
      tags: tags.split('\n').map((t) => t.trim()).filter((t) => t !== ''),
    },
    delete: { ...(notPulled.trim() !== '' && { notpulledfor: notPulled.trim() }), ...(untagged.trim() !== '' && { untaggedafter: untagged.trim() }) },
  });
  return (
    <form
      class="form wide-form"
      onSubmit={(e) => {
        e.preventDefault();
        void form.run(async () => {
          await putRetentionPolicy(policy());
          onSaved();
        }, `Retention policy of ${pattern} saved`);
      }}
    >
      <div class="field">
        <label for="ret-newest">Keep the newest tags</label>
        <input id="ret-newest" type="number" min={1} step={1} value={newest} aria-describedby="ret-newest-hint" onInput={(e) => setNewest(e.currentTarget.value)} />
        <p id="ret-newest-hint" class="hint">
          How many of the most recently pushed tags are always kept. Empty: no such rule.
        </p>
      </div>
      <div class="field">
        <label for="ret-tags">Keep tags matching</label>
        <textarea id="ret-tags" class="mono" rows={3} value={tags} aria-describedby="ret-tags-hint" onInput={(e) => setTags(e.currentTarget.value)} />
        <p id="ret-tags-hint" class="hint">
          RE2 regular expressions, one per line (e.g. <code>^v[0-9]</code>; no backreferences or lookaround). A tag is kept if any keep rule keeps it.
        </p>
      </div>
      <div class="field">
        <label for="ret-notpulled">Delete tags not pulled for</label>
        <input id="ret-notpulled" value={notPulled} placeholder="90d" aria-describedby="ret-notpulled-hint" onInput={(e) => setNotPulled(e.currentTarget.value)} />
        <p id="ret-notpulled-hint" class="hint">
          Days (<code>90d</code>) or hours (<code>36h</code>). Empty: every tag the keep rules do not keep is deleted (when there is a keep rule).
        </p>
      </div>
      <div class="field">
        <label for="ret-untagged">Delete untagged manifests after</label>
        <input id="ret-untagged" value={untagged} placeholder="7d" onInput={(e) => setUntagged(e.currentTarget.value)} />
      </div>
      <FormActions form={form} submit="Save policy">
        {own !== undefined && (
          <button
            type="button"
            class="button secondary"
            disabled={form.busy}
            onClick={() =>
              void form.run(async () => {
                await deleteRetentionPolicy(pattern);
                onSaved();
              }, `Retention policy of ${pattern} removed`)
            }
          >
            Remove the policy of {pattern}
          </button>
        )}
      </FormActions>
    </form>
  );
}
