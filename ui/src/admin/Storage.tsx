import { getStorage } from '../api/admin.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { Link } from '../components/Link.tsx';
import { Loading } from '../components/Loading.tsx';
import { NumHeader, Table } from '../components/Table.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { formatBytes, formatNumber } from '../lib/format.ts';
import { namespaceLabel, StorageChart } from './StorageChart.tsx';

/** Bytes on disk: the total, each namespace's share, and how they grew. */
export function Storage() {
  const storage = useAsync((signal) => getStorage(signal), []);
  const report = storage.data;
  return (
    <section class="section-block" aria-labelledby="storage-title">
      <h2 id="storage-title">Storage</h2>
      {storage.error !== undefined ? (
        <ErrorNotice error={storage.error} retry={storage.reload} />
      ) : report === undefined ? (
        <Loading />
      ) : (
        <>
          <dl class="stat-grid">
            <div class="card">
              <dt>Total</dt>
              <dd>{formatBytes(report.total.bytes)}</dd>
            </div>
            <div class="card">
              <dt>Blobs</dt>
              <dd>{formatNumber(report.total.blobs)}</dd>
            </div>
            <div class="card">
              <dt>Namespaces</dt>
              <dd>{formatNumber(report.namespaces.length)}</dd>
            </div>
          </dl>
          <h3>By namespace</h3>
          {report.namespaces.length === 0 ? (
            <p class="empty">Nothing stored yet.</p>
          ) : (
            <Table
              head={
                <>
                  <th scope="col">Namespace</th>
                  <NumHeader>Size</NumHeader>
                  <NumHeader>Repositories</NumHeader>
                </>
              }
            >
              {[...report.namespaces]
                .sort((a, b) => b.bytes - a.bytes)
                .map((n) => (
                  <tr key={n.namespace}>
                    <th scope="row">{n.namespace === '' ? namespaceLabel('') : <Link href={`/u/${encodeURIComponent(n.namespace)}`}>{n.namespace}</Link>}</th>
                    <td class="num" title={`${formatNumber(n.bytes)} bytes`}>
                      {formatBytes(n.bytes)}
                    </td>
                    <td class="num">{formatNumber(n.repositories)}</td>
                  </tr>
                ))}
            </Table>
          )}
          <h3>Over time</h3>
          <StorageChart report={report} />
          <p class="hint">Layers shared by several namespaces count in each of them, and once in the total.</p>
        </>
      )}
    </section>
  );
}
