import { formatDateTime, formatRelative } from '../lib/format.ts';

/** A moment shown relatively ("3 hours ago"), with the exact time in its title and datetime. */
export function Time({ at, fallback = '–' }: { at: string | null | undefined; fallback?: string }) {
  if (at === null || at === undefined || at === '') return <span>{fallback}</span>;
  return (
    <time dateTime={at} title={formatDateTime(at)}>
      {formatRelative(at)}
    </time>
  );
}
