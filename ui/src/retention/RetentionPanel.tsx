/**
 * A repository's retention: the policy that applies (its own, or a namespace pattern's), a form
 * to set this repository's own for those who may, and the dry run: exactly which tags and
 * untagged manifests the next garbage collection would delete, and the rule behind each.
 */
import { useState } from 'preact/hooks';
import { deleteRetentionPolicy, getRepositoryRetention, putRetentionPolicy, type EffectivePolicy, type RepositoryRetention, type RetentionPolicy } from '../api/retention.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { FormActions } from '../components/FormActions.tsx';
import { Loading } from '../components/Loading.tsx';
import { Table } from '../components/Table.tsx';
import { Time } from '../components/Time.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { useFormAction } from '../hooks/useFormAction.ts';
import { plural, shortDigest } from '../lib/format.ts';

function describe(p: RetentionPolicy): string {
  const rules: string[] = [];
  if (p.keep.newest !== undefined) rules.push(`keep the newest ${p.keep.newest}`);
  if (p.keep.tags.length > 0) rules.push(`keep tags matching ${p.keep.tags.join(' or ')}`);
  if (p.delete.notpulledfor !== undefined) rules.push(`delete tags not pulled for ${p.delete.notpulledfor}`);
  if (p.delete.untaggedafter !== undefined) rules.push(`delete untagged manifests after ${p.delete.untaggedafter}`);
  return rules.length === 0 ? 'no rule: nothing is deleted' : rules.join('; ');
}

function PolicyForm({ name, own, onSaved }: { name: string; own: EffectivePolicy | undefined; onSaved: () => void }) {
  const form = useFormAction();
  const [newest, setNewest] = useState(own?.keep.newest?.toString() ?? '');
  const [tags, setTags] = useState(own?.keep.tags.join('\n') ?? '');
  const [notPulled, setNotPulled] = useState(own?.delete.notpulledfor ?? '');
  const [untagged, setUntagged] = useState(own?.delete.untaggedafter ?? '');
  const policy = (): RetentionPolicy => ({
    repository: name,
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
        }, `Retention policy of ${name} saved`);
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
          Regular expressions, one per line (e.g. <code>^v[0-9]</code>). A tag is kept if any keep rule keeps it.
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
                await deleteRetentionPolicy(name);
                onSaved();
              }, `Retention policy of ${name} removed`)
            }
          >
            Remove this repository's policy
          </button>
        )}
      </FormActions>
    </form>
  );
}

function Preview({ data }: { data: RepositoryRetention }) {
  const preview = data.preview;
  if (preview === null) return <p class="hint">No policy applies: the next garbage collection deletes no tag here.</p>;
  const going = preview.tags.filter((t) => t.action === 'delete');
  const kept = preview.tags.length - going.length;
  return (
    <>
      {preview.error !== null && (
        <p class="notice" role="status">
          Nothing is deleted here: {preview.error}
        </p>
      )}
      <p>
        If garbage collection ran now, it would delete {plural(going.length, 'tag')} and {plural(preview.untagged.length, 'untagged manifest')}, and keep {plural(kept, 'tag')}.
      </p>
      {preview.tags.length > 0 && (
        <Table caption="Tags and what retention does with them" hideCaption head={<><th scope="col">Tag</th><th scope="col">Outcome</th><th scope="col">Rule</th><th scope="col">Why</th><th scope="col">Pushed</th><th scope="col">Last pulled</th></>}>
          {[...going, ...preview.tags.filter((t) => t.action === 'keep')].map((t) => (
            <tr key={t.tag}>
              <td class="mono">{t.tag}</td>
              <td>{t.action === 'delete' ? <strong>delete</strong> : 'keep'}</td>
              <td class="mono">{t.rule}</td>
              <td>{t.reason}</td>
              <td>
                <Time at={t.pushedAt} />
              </td>
              <td>
                <Time at={t.pulledAt} fallback="never" />
              </td>
            </tr>
          ))}
        </Table>
      )}
      {preview.untagged.length > 0 && (
        <Table caption="Untagged manifests to delete" head={<><th scope="col">Digest</th><th scope="col">Why</th></>}>
          {preview.untagged.map((m) => (
            <tr key={m.digest}>
              <td class="mono" title={m.digest}>
                {shortDigest(m.digest)}
              </td>
              <td>{m.reason}</td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}

/** The Retention section of a repository's settings (its administrators). */
export function RetentionPanel({ name }: { name: string }) {
  const result = useAsync((signal) => getRepositoryRetention(name, signal), [name]);
  const data = result.data;
  return (
    <section class="section-block" aria-labelledby="retention-title">
      <h2 id="retention-title">Retention</h2>
      {result.error !== undefined ? (
        <ErrorNotice error={result.error} retry={result.reload} />
      ) : data === undefined ? (
        <Loading />
      ) : (
        <>
          <p>
            {data.policy === null ? (
              'No retention policy covers this repository.'
            ) : (
              <>
                Policy <code>{data.policy.repository}</code> ({data.policy.source === 'config' ? 'from the configuration' : `set by ${data.policy.updatedBy ?? 'an administrator'}`}): {describe(data.policy)}.
              </>
            )}
          </p>
          <Preview data={data} />
          {data.mayEdit && (
            <>
              <h3>This repository's own policy</h3>
              <PolicyForm
                key={data.policy?.updatedAt ?? ''}
                name={name}
                own={data.policy !== null && data.policy.repository === name && data.policy.source === 'api' ? data.policy : undefined}
                onSaved={result.reload}
              />
            </>
          )}
        </>
      )}
    </section>
  );
}
