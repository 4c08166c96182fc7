/**
 * A namespace's storage and quota on its page (an organisation's, a user's): shown to whoever may
 * read it (its user, the organisation's members, administrators); nothing for anyone else.
 */
import { getQuota } from '../api/quotas.ts';
import { useAsync } from '../hooks/useAsync.ts';
import { useSession } from '../lib/session.tsx';
import { UsageBar } from './UsageBar.tsx';

export function NamespaceStorage({ namespace }: { namespace: string }) {
  const { user, open } = useSession();
  // Anonymous visitors read no quota: asking would answer 401, which the UI takes for a lost session.
  const mayAsk = open || user !== null;
  const quota = useAsync(mayAsk ? (signal) => getQuota(namespace, signal) : null, [namespace, mayAsk]);
  if (quota.data === undefined) return null;
  return (
    <section class="section-block" aria-labelledby="namespace-storage-title">
      <h2 id="namespace-storage-title">Storage</h2>
      <UsageBar quota={quota.data} />
    </section>
  );
}
