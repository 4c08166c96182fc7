import { getMirror } from '../api/admin.ts';
import type { UpstreamStatus } from '../api/types.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { Loading } from '../components/Loading.tsx';
import { SmallButton } from '../components/SmallButton.tsx';
import { NumHeader, Table } from '../components/Table.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { formatBytes, formatNumber, percent } from '../lib/format.ts';

const NUM_COLUMNS = ['Hit ratio', 'Hits', 'Misses', 'Served stale', 'Errors', 'Fetched', 'Saved'];

function UpstreamsTable({ upstreams }: { upstreams: UpstreamStatus[] }) {
  if (upstreams.length === 0) return <p class="empty">This registry mirrors no upstream.</p>;
  return (
    <Table
      head={
        <>
          <th scope="col">Upstream</th>
          {NUM_COLUMNS.map((c) => (
            <NumHeader key={c}>{c}</NumHeader>
          ))}
        </>
      }
    >
      {upstreams.map((u) => (
        <tr key={u.name}>
          <th scope="row">
            {u.name}
            <div class="hint">
              <code>{u.prefix || '(every name)'}</code> → {u.url}
            </div>
            {u.lastError && <div class="hint">Last error: {u.lastError.reason}</div>}
          </th>
          <td class="num">{percent(u.hits, u.hits + u.misses)}</td>
          <td class="num">{formatNumber(u.hits)}</td>
          <td class="num">{formatNumber(u.misses)}</td>
          <td class="num">{formatNumber(u.staleServed)}</td>
          <td class="num">{formatNumber(u.errors)}</td>
          <td class="num">{formatBytes(u.bytesFetched)}</td>
          <td class="num">{formatBytes(u.bytesSaved)}</td>
        </tr>
      ))}
    </Table>
  );
}

function MirrorStatus() {
  const mirror = useAsync((signal) => getMirror(signal), []);
  if (mirror.error !== undefined) return <ErrorNotice error={mirror.error} retry={mirror.reload} />;
  if (mirror.data === undefined) return <Loading />;
  return (
    <>
      <UpstreamsTable upstreams={mirror.data} />
      <p>
        <SmallButton onClick={mirror.reload}>Refresh</SmallButton>
      </p>
    </>
  );
}

/** The pull-through cache's upstreams (none when the registry mirrors nothing). */
export function Mirror() {
  return (
    <section class="section-block" aria-labelledby="mirror-title">
      <h2 id="mirror-title">Mirror</h2>
      <p class="hint">Hits, misses and bytes saved of each upstream registry since berth started.</p>
      <MirrorStatus />
    </section>
  );
}
