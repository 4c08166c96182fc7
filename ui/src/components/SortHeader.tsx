import type { ComponentChildren } from 'preact';

export type Order = 'asc' | 'desc';

interface Props<K extends string> {
  column: K;
  sort: K;
  order: Order;
  onSort: (column: K) => void;
  children: ComponentChildren;
  class?: string;
}

/** A column header that sorts: a button inside <th scope="col">, the state in aria-sort. */
export function SortHeader<K extends string>({ column, sort, order, onSort, children, class: className }: Props<K>) {
  const active = column === sort;
  return (
    <th scope="col" class={className} aria-sort={active ? (order === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button type="button" class="sort-button" onClick={() => onSort(column)}>
        {children}
        <span class="sort-indicator" aria-hidden="true">
          {active ? (order === 'asc' ? '▲' : '▼') : '↕'}
        </span>
      </button>
    </th>
  );
}
