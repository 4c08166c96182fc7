import { getEvents } from '../api/admin.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { Loading } from '../components/Loading.tsx';
import { NumHeader, Table } from '../components/Table.tsx';
import { Time } from '../components/Time.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { formatNumber, shortDigest } from '../lib/format.ts';

/** Webhook deliveries waiting or failing, per endpoint and one by one. */
export function Notifications() {
  const events = useAsync((signal) => getEvents(signal), []);
  const data = events.data;
  const backlog = data?.endpoints.filter((e) => e.pending + e.failed > 0) ?? [];
  return (
    <section class="section-block" aria-labelledby="notifications-title">
      <h2 id="notifications-title">Notifications</h2>
      {events.error !== undefined ? (
        <ErrorNotice error={events.error} retry={events.reload} />
      ) : data === undefined ? (
        <Loading />
      ) : data.deliveries.length === 0 && backlog.length === 0 ? (
        <p class="empty">No pending notifications.</p>
      ) : (
        <>
          {backlog.length > 0 && (
            <Table
              caption="Endpoints with a backlog"
              head={
                <>
                  <th scope="col">Endpoint</th>
                  <NumHeader>Pending</NumHeader>
                  <NumHeader>Failed</NumHeader>
                  <th scope="col">Oldest</th>
                  <th scope="col">Last error</th>
                </>
              }
            >
              {backlog.map((e) => (
                <tr key={e.name}>
                  <th scope="row">{e.name}</th>
                  <td class="num">{formatNumber(e.pending)}</td>
                  <td class="num">{formatNumber(e.failed)}</td>
                  <td class="nowrap">
                    <Time at={e.oldestCreatedAt} />
                  </td>
                  <td>{e.lastError ?? '–'}</td>
                </tr>
              ))}
            </Table>
          )}
          {data.deliveries.length > 0 && (
            <Table
              caption="Deliveries, oldest first"
              head={
                <>
                  <th scope="col">Event</th>
                  <th scope="col">Endpoint</th>
                  <th scope="col">State</th>
                  <NumHeader>Attempts</NumHeader>
                  <th scope="col">Next attempt</th>
                  <th scope="col">Last error</th>
                </>
              }
            >
              {data.deliveries.map((d) => (
                <tr key={d.id}>
                  <th scope="row">
                    {d.event.action} {d.event.repository}
                    {d.event.tag !== undefined ? `:${d.event.tag}` : d.event.digest !== undefined ? `@${shortDigest(d.event.digest)}` : ''}
                    <div class="hint">
                      <Time at={d.createdAt} />
                    </div>
                  </th>
                  <td>{d.endpoint}</td>
                  <td>{d.state === 'failed' ? 'Failing' : 'Pending'}</td>
                  <td class="num">{formatNumber(d.attempts)}</td>
                  <td class="nowrap">
                    <Time at={d.nextAttemptAt} />
                  </td>
                  <td>{d.lastError ?? '–'}</td>
                </tr>
              ))}
            </Table>
          )}
        </>
      )}
    </section>
  );
}
