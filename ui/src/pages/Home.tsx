/** Home: search as you type, then official, most starred and recently pushed repositories. */
import { useState } from 'preact/hooks';
import { useLocation } from 'wouter-preact';
import { search, type SearchParams } from '../api/repositories.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { Link } from '../components/Link.tsx';
import { Loading } from '../components/Loading.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { RepoList } from '../components/RepoList.tsx';
import { useAsync } from '../hooks/useAsync.ts';
import { useDebounced } from '../hooks/useDebounced.ts';
import { plural } from '../lib/format.ts';
import { useSession } from '../lib/session.tsx';

interface SectionProps {
  title: string;
  params: SearchParams;
  more: string;
  /** What it says when it lists nothing; without it, a section that lists nothing is left out (the others take its width). */
  empty?: string;
}

function Section({ title, params, more, empty }: SectionProps) {
  const id = `home-${title.toLowerCase().replace(/\W+/g, '-')}`;
  const result = useAsync((signal) => search({ ...params, per_page: 6 }, signal), [JSON.stringify(params)]);
  if (empty === undefined && result.data !== undefined && result.data.results.length === 0) return null;
  return (
    <section class="home-section" aria-labelledby={id}>
      <div class="section-head">
        <h2 id={id}>{title}</h2>
        <Link href={more} class="more-link">
          See all<span class="sr-only"> {title.toLowerCase()}</span>
        </Link>
      </div>
      {result.loading && result.data === undefined ? (
        <Loading />
      ) : result.error !== undefined ? (
        <ErrorNotice error={result.error} retry={result.reload} />
      ) : (
        <RepoList repos={result.data?.results ?? []} compact empty={empty} />
      )}
    </section>
  );
}

function InstantResults({ query }: { query: string }) {
  const settled = useDebounced(query.trim(), 150);
  const result = useAsync(settled === '' ? null : (signal) => search({ q: settled, per_page: 8 }, signal), [settled]);
  if (settled === '') return null;
  return (
    <section class="instant-results" aria-labelledby="instant-title" aria-busy={result.loading}>
      <h2 id="instant-title" class="sr-only">
        Results for {settled}
      </h2>
      {result.error !== undefined ? (
        <ErrorNotice error={result.error} />
      ) : result.data === undefined ? (
        <Loading label="Searching…" />
      ) : (
        <>
          <p class="result-count" role="status">
            {plural(result.data.total, 'repository', 'repositories')} found
          </p>
          <RepoList repos={result.data.results} compact empty={`No repository matches “${settled}”.`} />
          {result.data.total > result.data.results.length && (
            <p>
              <Link href={`/search?q=${encodeURIComponent(settled)}`}>All {plural(result.data.total, 'result')}</Link>
            </p>
          )}
        </>
      )}
    </section>
  );
}

export function HomePage() {
  const [query, setQuery] = useState('');
  const [, navigate] = useLocation();
  const { open } = useSession();

  return (
    <div class="page home">
      <div class="hero">
        <PageHeading>berth</PageHeading>
        <p class="lead">Container images hosted here. Find one, pull it, or push your own.</p>
        {open && <p class="notice small">Open registry: no accounts yet. Anyone can push and pull.</p>}
        <form
          role="search"
          class="search-form"
          onSubmit={(e) => {
            e.preventDefault();
            navigate(`/search?q=${encodeURIComponent(query.trim())}`);
          }}
        >
          <label for="home-search">Search repositories</label>
          <div class="search-row">
            <input
              id="home-search"
              type="search"
              name="q"
              value={query}
              autoComplete="off"
              spellcheck={false}
              placeholder="e.g. nginx, alice/app"
              onInput={(e) => setQuery(e.currentTarget.value)}
            />
            <button type="submit" class="button">
              Search
            </button>
          </div>
        </form>
      </div>
      <InstantResults query={query} />
      {/* Recently pushed lists every repository the visitor may see: it is empty only when all are, and then says so. */}
      <div class="home-sections">
        <Section title="Official images" params={{ official: true, sort: 'stars' }} more="/search?official=true&sort=stars" />
        <Section title="Most starred" params={{ sort: 'stars' }} more="/search?sort=stars" />
        <Section title="Recently pushed" params={{ sort: 'updated' }} more="/search?sort=updated" empty="No repositories to show yet." />
      </div>
    </div>
  );
}
