/** A repository's tags: filter, sort by column, pages, and Delete for those allowed. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { deleteTag, listTags, type TagQuery } from '../api/repositories.ts';
import type { Tag } from '../api/types.ts';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { Link, tagHref } from '../components/Link.tsx';
import { Loading } from '../components/Loading.tsx';
import { Pager } from '../components/Pager.tsx';
import { SortHeader, type Order } from '../components/SortHeader.tsx';
import { SmallButton } from '../components/SmallButton.tsx';
import { Table } from '../components/Table.tsx';
import { Time } from '../components/Time.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { useDebounced } from '../hooks/useDebounced.ts';
import { formatBytes, formatPlatform, plural, shortDigest } from '../lib/format.ts';
import { useToasts } from '../lib/toasts.tsx';

type SortKey = NonNullable<TagQuery['sort']>;
const FIRST_ORDER: Record<SortKey, Order> = { name: 'asc', pushed: 'desc', size: 'desc' };
const PER_PAGE = 25;

interface Props {
  name: string;
  canDelete: boolean;
  /** The first page as first loaded (newest first), for the pull command's tag. */
  onFirstLoad?: (tags: Tag[]) => void;
}

export function TagsTable({ name, canDelete, onFirstLoad }: Props) {
  const { notify } = useToasts();
  const [filter, setFilter] = useState('');
  const q = useDebounced(filter.trim(), 200);
  const [sort, setSort] = useState<SortKey>('pushed');
  const [order, setOrder] = useState<Order>('desc');
  // The page belongs to the filter it was chosen under: a new filter starts at page 1 in the same render.
  const [paging, setPaging] = useState({ q: '', page: 1 });
  const page = paging.q === q ? paging.page : 1;
  const setPage = (n: number) => setPaging({ q, page: n });
  const [deleting, setDeleting] = useState<Tag | undefined>(undefined);
  const filterRef = useRef<HTMLInputElement>(null);

  const result = useAsync((signal) => listTags(name, { q, sort, order, page, per_page: PER_PAGE }, signal), [name, q, sort, order, page]);
  // A page emptied by a delete (or by tags gone meanwhile) falls back to the last page there is.
  useEffect(() => {
    const pages = result.data?.pages;
    if (pages !== undefined && pages >= 1 && page > pages) setPage(pages);
  }, [result.data]);
  const [reported, setReported] = useState(false);
  useEffect(() => {
    if (!reported && result.data !== undefined) {
      setReported(true);
      onFirstLoad?.(result.data.tags);
    }
  }, [result.data]);

  const onSort = (column: SortKey) => {
    if (column === sort) setOrder(order === 'asc' ? 'desc' : 'asc');
    else {
      setSort(column);
      setOrder(FIRST_ORDER[column]);
    }
    setPage(1);
  };

  const data = result.data;
  return (
    <div>
      <div class="tags-toolbar">
        <div class="field">
          <label for="tag-filter">Filter tags</label>
          <input ref={filterRef} id="tag-filter" type="search" value={filter} autoComplete="off" spellcheck={false} onInput={(e) => setFilter(e.currentTarget.value)} />
        </div>
        {data !== undefined && (
          <p class="result-count" role="status">
            {plural(data.total, 'tag')}
            {q !== '' && ` matching “${q}”`}
          </p>
        )}
      </div>
      {result.error !== undefined ? (
        <ErrorNotice error={result.error} retry={result.reload} what="see the tags" />
      ) : data === undefined ? (
        <Loading />
      ) : data.tags.length === 0 ? (
        <p class="empty">{q === '' ? 'No tags yet.' : `No tag matches “${q}”.`}</p>
      ) : (
        <Table
          caption={`Tags of ${name}`}
          hideCaption
          busy={result.loading}
          actions={canDelete}
          head={
            <>
              <SortHeader column="name" sort={sort} order={order} onSort={onSort}>
                Tag
              </SortHeader>
              <th scope="col">Digest</th>
              <SortHeader column="size" sort={sort} order={order} onSort={onSort} class="num">
                Size
              </SortHeader>
              <th scope="col">Platforms</th>
              <SortHeader column="pushed" sort={sort} order={order} onSort={onSort}>
                Pushed
              </SortHeader>
            </>
          }
        >
          {data.tags.map((tag) => (
            <tr key={tag.name}>
              <th scope="row">
                <Link href={tagHref(name, tag.name)}>{tag.name}</Link>
              </th>
              <td class="nowrap">
                <code title={tag.digest}>{shortDigest(tag.digest)}</code>
              </td>
              <td class="num">{formatBytes(tag.size)}</td>
              <td>{tag.platforms.length === 0 ? '–' : tag.platforms.map(formatPlatform).join(', ')}</td>
              <td class="nowrap">
                <Time at={tag.pushedAt} />
              </td>
              {canDelete && (
                <td>
                  <SmallButton danger label={`Delete tag ${tag.name}`} onClick={() => setDeleting(tag)}>
                    Delete
                  </SmallButton>
                </td>
              )}
            </tr>
          ))}
        </Table>
      )}
      {data !== undefined && <Pager page={page} pages={data.pages} label="Pages of tags" onPage={setPage} />}
      {deleting !== undefined && (
        <ConfirmDialog
          title={`Delete tag ${deleting.name}?`}
          confirmLabel="Delete"
          onClose={() => setDeleting(undefined)}
          onConfirm={async () => {
            await deleteTag(name, deleting.name);
            notify(`Tag ${deleting.name} deleted`);
            result.reload();
            // The row and its button go away: keep the focus somewhere useful.
            setTimeout(() => filterRef.current?.focus(), 0);
          }}
        >
          <p>
            {name}:{deleting.name} will no longer be pullable by this tag. Its image stays pullable by digest (
            <code>{shortDigest(deleting.digest)}</code>) and keeps its disk space.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}
