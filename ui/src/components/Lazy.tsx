/**
 * Pages loaded on first visit (dynamic import()): the main bundle holds only the shell, home,
 * search and sign-in. The module is fetched once and kept.
 */
import type { ComponentType, FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Loading } from './Loading.tsx';

export function lazyPage<P extends object>(load: () => Promise<{ default: ComponentType<P> }>): FunctionComponent<P> {
  let loaded: ComponentType<P> | undefined;
  let pending: Promise<ComponentType<P>> | undefined;
  const fetchPage = () => (pending ??= load().then((m) => (loaded = m.default)));

  return function LazyPage(props: P) {
    const [page, setPage] = useState<ComponentType<P> | undefined>(() => loaded);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (page !== undefined) return;
      let live = true;
      fetchPage().then(
        (c) => live && setPage(() => c),
        () => {
          pending = undefined;
          if (live) setFailed(true);
        },
      );
      return () => {
        live = false;
      };
    }, [page]);
    if (failed) {
      return (
        <div class="error-box" role="alert">
          <p>This page could not be loaded (the registry may have been upgraded).</p>
          <button type="button" class="button secondary" onClick={() => location.reload()}>
            Reload
          </button>
        </div>
      );
    }
    if (page === undefined) return <Loading />;
    const Page = page;
    return <Page {...props} />;
  };
}
