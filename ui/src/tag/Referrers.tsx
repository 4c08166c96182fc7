import { Fragment } from 'preact';
import type { Referrer } from '../api/types.ts';
import { Link, tagHref } from '../components/Link.tsx';
import { NumHeader, Table } from '../components/Table.tsx';
import { Time } from '../components/Time.tsx';
import { formatBytes, shortDigest } from '../lib/format.ts';

/** Signatures, SBOMs and other artifacts whose subject is this manifest. */
export function ReferrersTable({ name, referrers }: { name: string; referrers: Referrer[] }) {
  if (referrers.length === 0) return <p class="empty">No referrers.</p>;
  return (
    <Table
      head={
        <>
          <th scope="col">Artifact type</th>
          <th scope="col">Digest</th>
          <NumHeader>Size</NumHeader>
          <th scope="col">Annotations</th>
        </>
      }
    >
      {referrers.map((r) => {
        const annotations = Object.entries(r.annotations ?? {});
        return (
          <tr key={r.digest}>
            <th scope="row">
              <code>{r.artifactType || r.mediaType}</code>
            </th>
            <td class="nowrap">
              <Link href={tagHref(name, r.digest)} title={r.digest}>
                <code>{shortDigest(r.digest)}</code>
              </Link>
            </td>
            <td class="num">{formatBytes(r.size)}</td>
            <td>
              {annotations.length === 0 ? (
                r.createdAt ? <Time at={r.createdAt} /> : '–'
              ) : (
                <dl class="facts">
                  {annotations.map(([k, v]) => (
                    <Fragment key={k}>
                      <dt>
                        <code>{k}</code>
                      </dt>
                      <dd>{v}</dd>
                    </Fragment>
                  ))}
                </dl>
              )}
            </td>
          </tr>
        );
      })}
    </Table>
  );
}
