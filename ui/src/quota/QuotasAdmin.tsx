/** /admin, Quotas: every namespace's bytes against its limit, and administrators' limits set or removed. */
import { useState } from 'preact/hooks';
import { listQuotas, resetQuota, setQuota, type NamespaceQuota } from '../api/quotas.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { InlineSubmit } from '../components/FormActions.tsx';
import { Link } from '../components/Link.tsx';
import { Loading } from '../components/Loading.tsx';
import { SmallButton } from '../components/SmallButton.tsx';
import { NumHeader, Table } from '../components/Table.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { useFormAction } from '../hooks/useFormAction.ts';
import { useRowAction } from '../hooks/useRowAction.ts';
import { formatBytes } from '../lib/format.ts';
import { UsageBar } from './UsageBar.tsx';

const SOURCES: Record<NamespaceQuota['source'], string> = { default: 'default', config: 'config', api: 'set here' };

function LimitForm({ onSet }: { onSet: () => void }) {
  const form = useFormAction();
  const [namespace, setNamespace] = useState('');
  const [limit, setLimit] = useState('');
  return (
    <form
      class="form-row add-form quota-limit-form"
      aria-label="Set a namespace's limit"
      onSubmit={(e) => {
        e.preventDefault();
        const ns = namespace.trim();
        const value = /^\d+$/.test(limit.trim()) ? Number(limit.trim()) : limit.trim();
        void form.run(() => setQuota(ns, value).then(() => undefined), `Limit of ${ns} set`).then((ok) => {
          if (!ok) return;
          setNamespace('');
          setLimit('');
          onSet();
        });
      }}
    >
      <div class="field">
        <label for="quota-namespace">Namespace</label>
        <input id="quota-namespace" required autoComplete="off" autoCapitalize="none" spellcheck={false} value={namespace} onInput={(e) => setNamespace(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="quota-limit">Limit</label>
        <input id="quota-limit" required placeholder="100GiB" autoComplete="off" spellcheck={false} value={limit} aria-describedby="quota-limit-hint" onInput={(e) => setLimit(e.currentTarget.value)} />
        <p id="quota-limit-hint" class="hint">
          Bytes, or a size such as 500MB or 100GiB; 0 for no limit.
        </p>
      </div>
      <InlineSubmit form={form}>Set limit</InlineSubmit>
    </form>
  );
}

export function QuotasAdmin() {
  const quotas = useAsync((signal) => listQuotas(signal), []);
  const act = useRowAction(quotas.reload);
  return (
    <section class="section-block" aria-labelledby="quotas-title">
      <h2 id="quotas-title">Quotas</h2>
      <p class="hint">Bytes each namespace holds (its distinct layers and manifests) against its limit; the config gives the default, a limit set here replaces it.</p>
      {quotas.error !== undefined ? (
        <ErrorNotice error={quotas.error} retry={quotas.reload} />
      ) : quotas.data === undefined ? (
        <Loading />
      ) : quotas.data.length === 0 ? (
        <p class="empty">No namespace holds anything yet.</p>
      ) : (
        <Table
          actions
          head={
            <>
              <th scope="col">Namespace</th>
              <th scope="col">Usage</th>
              <NumHeader>Limit</NumHeader>
              <th scope="col">From</th>
            </>
          }
        >
          {quotas.data.map((q) => (
            <tr key={q.namespace}>
              <th scope="row">
                <Link href={`/u/${encodeURIComponent(q.namespace)}`}>{q.namespace}</Link>
              </th>
              <td>
                <UsageBar quota={q} />
              </td>
              <td class="num">{q.limit === 0 ? 'none' : formatBytes(q.limit)}</td>
              <td>{SOURCES[q.source]}{q.updatedBy !== null ? ` (${q.updatedBy})` : ''}</td>
              <td>
                {q.source === 'api' && (
                  <SmallButton label={`Remove the limit set for ${q.namespace}`} onClick={() => void act(() => resetQuota(q.namespace), `${q.namespace} is back to the config's limit`, `The limit of ${q.namespace} was not removed`)}>
                    Use config
                  </SmallButton>
                )}
              </td>
            </tr>
          ))}
        </Table>
      )}
      <LimitForm onSet={quotas.reload} />
    </section>
  );
}
