/** /search?q=&sort=&official=&stars=&page= : results with filters, sorting and pages, all in the URL. */
import { useEffect, useState } from 'preact/hooks';
import { useLocation, useSearch } from 'wouter-preact';
import { search, type SearchParams } from '../api/repositories.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { Loading } from '../components/Loading.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { Pager } from '../components/Pager.tsx';
import { RepoList } from '../components/RepoList.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { useDebounced } from '../hooks/useDebounced.ts';
import { plural } from '../lib/format.ts';

type Sort = NonNullable<SearchParams['sort']>;
const SORTS: [Sort, string][] = [
  ['relevance', 'Relevance'],
  ['stars', 'Stars'],
  ['pulls', 'Pulls'],
  ['updated', 'Recently updated'],
];
const PER_PAGE = 20;

interface Filters {
  q: string;
  sort: Sort;
  official: boolean;
  stars: number;
  page: number;
}

function readFilters(search: string): Filters {
  const p = new URLSearchParams(search);
  const sort = p.get('sort') as Sort | null;
  const stars = Number(p.get('stars') ?? '0');
  const page = Number(p.get('page') ?? '1');
  return {
    q: p.get('q') ?? '',
    sort: sort !== null && SORTS.some(([s]) => s === sort) ? sort : 'relevance',
    official: p.get('official') === 'true',
    stars: Number.isInteger(stars) && stars > 0 ? stars : 0,
    page: Number.isInteger(page) && page > 0 ? page : 1,
  };
}

function hrefOf(f: Filters): string {
  const p = new URLSearchParams();
  if (f.q !== '') p.set('q', f.q);
  if (f.sort !== 'relevance') p.set('sort', f.sort);
  if (f.official) p.set('official', 'true');
  if (f.stars > 0) p.set('stars', String(f.stars));
  if (f.page > 1) p.set('page', String(f.page));
  const text = p.toString();
  return text === '' ? '/search' : `/search?${text}`;
}

export function SearchPage() {
  const searchString = useSearch();
  const [, navigate] = useLocation();
  const filters = readFilters(searchString);
  const [query, setQuery] = useState(filters.q);
  const [stars, setStars] = useState(filters.stars === 0 ? '' : String(filters.stars));

  // Back, forward and links change the URL: the inputs follow it.
  useEffect(() => setQuery(filters.q), [filters.q]);
  useEffect(() => setStars(filters.stars === 0 ? '' : String(filters.stars)), [filters.stars]);

  // Typing refines the results as on the home page; the URL follows (replace: no history per key).
  const settledQuery = useDebounced(query.trim(), 250);
  useEffect(() => {
    if (settledQuery !== filters.q) navigate(hrefOf({ ...filters, q: settledQuery, page: 1 }), { replace: true });
  }, [settledQuery]);
  const settledStars = useDebounced(stars, 300);
  useEffect(() => {
    const n = Number(settledStars);
    const value = Number.isInteger(n) && n > 0 ? n : 0;
    if (value !== filters.stars) navigate(hrefOf({ ...filters, stars: value, page: 1 }), { replace: true });
  }, [settledStars]);

  const go = (change: Partial<Filters>) => navigate(hrefOf({ ...filters, page: 1, ...change }));

  const result = useAsync(
    (signal) =>
      search(
        {
          q: filters.q,
          sort: filters.sort,
          page: filters.page,
          per_page: PER_PAGE,
          ...(filters.official && { official: true }),
          ...(filters.stars > 0 && { stars: filters.stars }),
        },
        signal,
      ),
    [filters.q, filters.sort, filters.official, filters.stars, filters.page],
  );

  const title = filters.q === '' ? 'Explore repositories' : `Search results for “${filters.q}”`;
  return (
    <div class="page search-page">
      <PageHeading title={filters.q === '' ? 'Explore' : `Search: ${filters.q}`}>{title}</PageHeading>
      <form
        role="search"
        class="search-form"
        onSubmit={(e) => {
          e.preventDefault();
          go({ q: query.trim() });
        }}
      >
        <label for="search-q">Search repositories</label>
        <div class="search-row">
          <input
            id="search-q"
            type="search"
            value={query}
            autoComplete="off"
            spellcheck={false}
            onInput={(e) => setQuery(e.currentTarget.value)}
          />
          <button type="submit" class="button">
            Search
          </button>
        </div>
      </form>
      <div class="filters" role="group" aria-label="Filters and sorting">
        <label class="checkbox">
          <input type="checkbox" checked={filters.official} onChange={(e) => go({ official: e.currentTarget.checked })} />
          Official only
        </label>
        <label class="inline-field">
          Minimum stars
          <input
            type="number"
            min={0}
            step={1}
            inputMode="numeric"
            value={stars}
            class="narrow"
            onInput={(e) => setStars(e.currentTarget.value)}
          />
        </label>
        <label class="inline-field">
          Sort by
          <select value={filters.sort} onChange={(e) => go({ sort: e.currentTarget.value as Sort })}>
            {SORTS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div aria-busy={result.loading}>
        {result.error !== undefined ? (
          <ErrorNotice error={result.error} retry={result.reload} />
        ) : result.data === undefined ? (
          <Loading />
        ) : (
          <>
            <p class="result-count" role="status">
              {plural(result.data.total, 'repository', 'repositories')}
              {filters.q !== '' && ` matching “${filters.q}”`}
            </p>
            <RepoList
              repos={result.data.results}
              empty={filters.q === '' ? 'No repositories yet.' : `No repository matches “${filters.q}”. Try fewer words or other filters.`}
            />
            <Pager
              page={filters.page}
              pages={result.data.pages}
              label="Search result pages"
              hrefFor={(page) => hrefOf({ ...filters, page })}
            />
          </>
        )}
      </div>
    </div>
  );
}
