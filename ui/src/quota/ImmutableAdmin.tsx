/** /admin, Immutable tags: the rules in force, from the config and set here; add, replace and lift them. */
import { useState } from 'preact/hooks';
import { liftImmutableRule, listImmutableRules, putImmutableRule } from '../api/quotas.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { InlineSubmit } from '../components/FormActions.tsx';
import { Loading } from '../components/Loading.tsx';
import { SmallButton } from '../components/SmallButton.tsx';
import { Table } from '../components/Table.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { useFormAction } from '../hooks/useFormAction.ts';
import { useRowAction } from '../hooks/useRowAction.ts';

function RuleForm({ onSet }: { onSet: () => void }) {
  const form = useFormAction();
  const [repository, setRepository] = useState('');
  const [tags, setTags] = useState('');
  return (
    <form
      class="form-row add-form"
      aria-label="Set an immutable tag rule"
      onSubmit={(e) => {
        e.preventDefault();
        const pattern = repository.trim();
        const globs = tags.split(/[\s,]+/).filter((t) => t !== '');
        void form.run(() => putImmutableRule(pattern, globs).then(() => undefined), `Tags ${globs.join(', ')} of ${pattern} are immutable`).then((ok) => {
          if (!ok) return;
          setRepository('');
          setTags('');
          onSet();
        });
      }}
    >
      <div class="field">
        <label for="immutable-repository">Repositories</label>
        <input id="immutable-repository" required placeholder="acme/*" autoComplete="off" autoCapitalize="none" spellcheck={false} value={repository} onInput={(e) => setRepository(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="immutable-tags">Tags</label>
        <input id="immutable-tags" required placeholder="v*, stable" autoComplete="off" spellcheck={false} value={tags} aria-describedby="immutable-tags-hint" onInput={(e) => setTags(e.currentTarget.value)} />
        <p id="immutable-tags-hint" class="hint">
          Patterns: * stands for any characters, ? for one; * alone holds every tag.
        </p>
      </div>
      <InlineSubmit form={form}>Set rule</InlineSubmit>
    </form>
  );
}

export function ImmutableAdmin() {
  const rules = useAsync((signal) => listImmutableRules(signal), []);
  const act = useRowAction(rules.reload);
  return (
    <section class="section-block" aria-labelledby="immutable-title">
      <h2 id="immutable-title">Immutable tags</h2>
      <p class="hint">A tag a rule holds can be neither moved to another image nor deleted, by anyone, administrators included, until the rule is lifted here.</p>
      {rules.error !== undefined ? (
        <ErrorNotice error={rules.error} retry={rules.reload} />
      ) : rules.data === undefined ? (
        <Loading />
      ) : rules.data.length === 0 ? (
        <p class="empty">No rules: every tag can be moved and deleted.</p>
      ) : (
        <Table
          actions
          head={
            <>
              <th scope="col">Repositories</th>
              <th scope="col">Tags</th>
              <th scope="col">From</th>
            </>
          }
        >
          {rules.data.map((r) => (
            <tr key={r.repository}>
              <th scope="row">
                <code>{r.repository}</code>
              </th>
              <td>{r.disabled ? <em>lifted (config: {r.configTags?.join(', ')})</em> : r.tags.map((t) => <code key={t}>{t} </code>)}</td>
              <td>{r.source === 'config' ? 'config' : `set by ${r.updatedBy ?? 'an administrator'}`}</td>
              <td>
                {!r.disabled && (
                  <SmallButton danger label={`Lift the rule of ${r.repository}`} onClick={() => void act(() => liftImmutableRule(r.repository), `The rule of ${r.repository} is lifted`, `The rule of ${r.repository} was not lifted`)}>
                    Lift
                  </SmallButton>
                )}
              </td>
            </tr>
          ))}
        </Table>
      )}
      <RuleForm onSet={rules.reload} />
    </section>
  );
}
