/**
 * A repository's retention: the policy that applies (its own, or a namespace pattern's), a form
 * to set this repository's own for those who may, and the dry run: exactly which tags and
 * untagged manifests the next garbage collection would delete, and the rule behind each.
 */
import { getRepositoryRetention } from '../api/retention.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { Loading } from '../components/Loading.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { describe, PolicyForm } from './PolicyForm.tsx';
import { RepositoryPreviewView } from './PreviewTables.tsx';

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
          {data.preview === null ? <p class="hint">No policy applies: the next garbage collection deletes no tag here.</p> : <RepositoryPreviewView preview={data.preview} />}
          {data.mayEdit && (
            <>
              <h3>This repository's own policy</h3>
              <PolicyForm
                key={data.policy?.updatedAt ?? ''}
                pattern={name}
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
