import { getMirror } from '../api/admin.ts';
import type { UpstreamStatus } from '../api/types.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { Loading } from '../components/Loading.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { formatBytes, formatNumber, percent } from '../lib/format.ts';

function UpstreamsTable({ upstreams }: { upstreams: UpstreamStatus[] }) {
  if (upstreams.length === 0) return <p class="empty">This registry mirrors no upstream.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Upstream</th>
            <th scope="col" class="num">
              Hit ratio
            </th>
            <th scope="col" class="num">
              Hits
            </th>
            <th scope="col" class="num">
              Misses
            </th>
            <th scope="col" class="num">
              Served stale
            </th>
            <th scope="col" class="num">
              Errors
            </th>
            <th scope="col" class="num">
              Fetched
            </th>
            <th scope="col" class="num">
              Saved
            </th>
          </tr>
        </thead>
        <tbody>
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
        </tbody>
      </table>
    </div>
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
        <button type="button" class="button secondary small" onClick={mirror.reload}>
          Refresh
        </button>
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
