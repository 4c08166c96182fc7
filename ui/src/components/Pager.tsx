import { formatNumber } from '../lib/format.ts';
import { Link } from './Link.tsx';

interface Props {
  page: number;
  pages: number;
  label: string;
  /** Pages as links (state in the URL)... */
  hrefFor?: (page: number) => string;
  /** ...or as buttons (state in the page). */
  onPage?: (page: number) => void;
}

/** Previous / Next, and where we are. Nothing when everything fits on one page. */
export function Pager({ page, pages, label, hrefFor, onPage }: Props) {
  if (pages <= 1 && page <= 1) return null;
  const item = (target: number, text: string, enabled: boolean) => {
    if (hrefFor !== undefined) {
      return enabled ? (
        <Link href={hrefFor(target)} class="button secondary" rel={text === 'Next' ? 'next' : 'prev'}>
          {text}
        </Link>
      ) : (
        <span class="button secondary disabled" aria-disabled="true">
          {text}
        </span>
      );
    }
    return (
      <button type="button" class="button secondary" disabled={!enabled} onClick={() => onPage?.(target)}>
        {text}
      </button>
    );
  };
  return (
    <nav class="pager" aria-label={label}>
      {item(page - 1, 'Previous', page > 1)}
      <span class="pager-position">
        Page {formatNumber(page)} of {formatNumber(Math.max(pages, 1))}
      </span>
      {item(page + 1, 'Next', page < pages)}
    </nav>
  );
}
