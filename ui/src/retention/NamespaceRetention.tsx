/**
 * An organisation's retention, for its owners: the policy of `org/*` (from the configuration or set
 * here), a form to set or remove it, and the dry run of every repository of the organisation, each
 * under the policy that applies to it (a repository's own policy beats the namespace's).
 */
import { listRetentionPolicies, previewPattern } from '../api/retention.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { Loading } from '../components/Loading.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { plural } from '../lib/format.ts';
import { describe, PolicyForm } from './PolicyForm.tsx';
import { RepositoryPreviewView } from './PreviewTables.tsx';

export function NamespaceRetention({ namespace }: { namespace: string }) {
  const pattern = `${namespace}/*`;
  const result = useAsync(async (signal) => {
    const [{ policies }, preview] = await Promise.all([listRetentionPolicies(signal), previewPattern(pattern, signal)]);
    return { policy: policies.find((p) => p.repository === pattern), preview };
  }, [pattern]);
  const data = result.data;
  return (
    <section class="section-block" aria-labelledby="ns-retention-title">
      <h2 id="ns-retention-title">Retention</h2>
      {result.error !== undefined ? (
        <ErrorNotice error={result.error} retry={result.reload} />
      ) : data === undefined ? (
        <Loading />
      ) : (
        <>
          <p>
            {data.policy === undefined ? (
              <>
                No policy for <code>{pattern}</code>.
              </>
            ) : (
              <>
                Policy <code>{pattern}</code> ({data.policy.source === 'config' ? 'from the configuration' : `set by ${data.policy.updatedBy ?? 'an owner'}`}): {describe(data.policy)}.
              </>
            )}
          </p>
          <p>
            If garbage collection ran now, it would delete {plural(data.preview.deletes.tags, 'tag')} and {plural(data.preview.deletes.manifests, 'untagged manifest')} in{' '}
            {plural(data.preview.repositories.length, 'repository', 'repositories')} of {namespace} that a policy covers.
          </p>
          {data.preview.repositories.map((r) => (
            <details key={r.repository}>
              <summary>
                <span class="mono">{r.repository}</span> (policy <code>{r.policy}</code>): {plural(r.tags.filter((t) => t.action === 'delete').length, 'tag')} to delete
              </summary>
              <RepositoryPreviewView preview={r} />
            </details>
          ))}
          <h3>The policy of {pattern}</h3>
          <PolicyForm key={data.policy?.updatedAt ?? ''} pattern={pattern} own={data.policy?.source === 'api' ? data.policy : undefined} onSaved={result.reload} />
        </>
      )}
    </section>
  );
}
