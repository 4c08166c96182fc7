/** /r/:name/tag/:reference : one manifest (by tag or digest) in detail. */
import { Fragment, type ComponentChildren } from 'preact';
import { getManifest } from '../api/repositories.ts';
import type { ManifestDetail } from '../api/types.ts';
import { Link, repoHref, tagHref } from '../components/Link.tsx';
import { Loading } from '../components/Loading.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { NumHeader, Table } from '../components/Table.tsx';
import { Time } from '../components/Time.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { formatBytes, formatDateTime, formatPlatform, shortDigest } from '../lib/format.ts';
import { PullCommand } from '../repo/PullCommand.tsx';
import { reference as routeReference, repoName } from '../repo/params.ts';
import { RepoError } from '../repo/RepoError.tsx';
import { ConfigList, HistoryTable, LayersTable } from '../tag/ImageSections.tsx';
import { ReferrersTable } from '../tag/Referrers.tsx';

const KIND: Record<ManifestDetail['kind'], string> = { index: 'Multi-platform index', image: 'Image', artifact: 'Artifact' };

function Section({ id, title, children }: { id: string; title: string; children: ComponentChildren }) {
  return (
    <section aria-labelledby={id} class="section-block">
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

function PlatformsTable({ detail }: { detail: ManifestDetail }) {
  const platforms = detail.platforms ?? [];
  if (platforms.length === 0) return <p class="empty">This index lists no platforms.</p>;
  return (
    <Table
      head={
        <>
          <th scope="col">Platform</th>
          <th scope="col">Digest</th>
          <NumHeader wrap>Image size</NumHeader>
        </>
      }
    >
      {platforms.map((p) => (
        <tr key={p.digest}>
          <th scope="row">
            {formatPlatform(p.platform)}
            {p.platform['os.version'] !== undefined && <span class="hint"> {p.platform['os.version']}</span>}
          </th>
          <td class="nowrap">
            <Link href={tagHref(detail.name, p.digest)} title={p.digest}>
              <code>{shortDigest(p.digest)}</code>
            </Link>
          </td>
          {p.totalSize === null ? (
            <td class="num">–</td>
          ) : (
            <td class="num" title={`${p.totalSize} bytes: manifest, config and layers`}>
              {formatBytes(p.totalSize)}
            </td>
          )}
        </tr>
      ))}
    </Table>
  );
}

function Summary({ detail, byDigest }: { detail: ManifestDetail; byDigest: boolean }) {
  const others = detail.tags.filter((t) => byDigest || t !== detail.reference);
  return (
    <dl class="facts">
      <dt>Kind</dt>
      <dd>{KIND[detail.kind] ?? detail.kind}</dd>
      <dt>Digest</dt>
      <dd>
        <code>{detail.digest}</code>
      </dd>
      <dt>Media type</dt>
      <dd>
        <code>{detail.mediaType}</code>
      </dd>
      {detail.artifactType && (
        <>
          <dt>Artifact type</dt>
          <dd>
            <code>{detail.artifactType}</code>
          </dd>
        </>
      )}
      <dt>Total size</dt>
      <dd title={`${detail.totalSize} bytes`}>{formatBytes(detail.totalSize)}</dd>
      <dt>Pushed</dt>
      <dd>{detail.createdAt ? <Time at={detail.createdAt} /> : '–'}</dd>
      <dt>{byDigest ? 'Tags' : 'Other tags'}</dt>
      <dd>
        {others.length === 0
          ? 'None'
          : others.map((t, i) => (
              <Fragment key={t}>
                {i > 0 && ', '}
                <Link href={tagHref(detail.name, t)}>{t}</Link>
              </Fragment>
            ))}
      </dd>
      {detail.subject !== undefined && (
        <>
          <dt>Subject</dt>
          <dd>
            <Link href={tagHref(detail.name, detail.subject)}>
              <code>{detail.subject}</code>
            </Link>
          </dd>
        </>
      )}
      {Object.entries(detail.annotations ?? {}).map(([k, v]) => (
        <Fragment key={k}>
          <dt>
            <code>{k}</code>
          </dt>
          <dd>{k.endsWith('.created') ? `${v} (${formatDateTime(v)})` : v}</dd>
        </Fragment>
      ))}
    </dl>
  );
}

export default function TagPage({ params }: { params: { name?: string; reference?: string } }) {
  const name = repoName(params.name);
  const ref = routeReference(params.reference);
  const byDigest = ref.includes(':');
  const title = byDigest ? `${name}@${ref}` : `${name}:${ref}`;
  const result = useAsync((signal) => getManifest(name, ref, signal), [name, ref]);
  const detail = result.data;

  return (
    <div class="page">
      <p class="breadcrumb">
        <Link href={repoHref(name)}>{name}</Link>
      </p>
      {result.error !== undefined ? (
        <RepoError error={result.error} what={byDigest ? `manifest ${title}` : `tag ${title}`} heading={title} retry={result.reload} />
      ) : (
        <PageHeading title={byDigest ? `${name}@${shortDigest(ref)}` : title}>{title}</PageHeading>
      )}
      {result.error !== undefined ? null : detail === undefined ? (
        <Loading />
      ) : (
        <>
          <PullCommand name={name} tag={byDigest ? detail.digest : ref} />
          <Section id="summary-title" title="Summary">
            <Summary detail={detail} byDigest={byDigest} />
          </Section>
          {detail.kind === 'index' && (
            <Section id="platforms-title" title="Platforms">
              <PlatformsTable detail={detail} />
            </Section>
          )}
          {detail.kind !== 'index' && detail.layers !== undefined && (
            <Section id="layers-title" title="Layers">
              <LayersTable layers={detail.layers} />
            </Section>
          )}
          {detail.kind === 'image' && (
            <>
              <Section id="config-title" title="Configuration">
                {detail.config === undefined ? <p class="empty">No configuration.</p> : <ConfigList config={detail.config} />}
              </Section>
              <Section id="history-title" title="History">
                <HistoryTable history={detail.history ?? []} />
              </Section>
            </>
          )}
          <Section id="referrers-title" title="Referrers">
            <ReferrersTable name={name} referrers={detail.referrers ?? []} />
          </Section>
          <Section id="raw-title" title="Raw manifest">
            <details>
              <summary>Show the manifest JSON ({formatBytes(detail.size)})</summary>
              <pre tabIndex={0} aria-label="Manifest JSON">
                <code>{JSON.stringify(detail.manifest, null, 2)}</code>
              </pre>
            </details>
          </Section>
        </>
      )}
    </div>
  );
}
