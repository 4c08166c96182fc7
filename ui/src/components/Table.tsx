/** The parts every data table shares: its scrolling wrapper, caption and header row. */
import type { ComponentChildren } from 'preact';

interface TableProps {
  caption?: ComponentChildren;
  /** The caption for screen readers only. */
  hideCaption?: boolean;
  /** The header row's cells. */
  head: ComponentChildren;
  /** Adds a last header cell for a column of row buttons, named "Actions" for screen readers. */
  actions?: boolean;
  /** aria-busy on the wrapper, while new rows load. */
  busy?: boolean;
  /** The rows. */
  children: ComponentChildren;
}

/** A table in its horizontally scrolling wrapper: caption, one header row, the rows. */
export function Table({ caption, hideCaption = false, head, actions = false, busy, children }: TableProps) {
  return (
    <div class="table-wrap" aria-busy={busy}>
      <table>
        {caption !== undefined && <caption class={hideCaption ? 'sr-only' : undefined}>{caption}</caption>}
        <thead>
          <tr>
            {head}
            {actions && (
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** A header cell of a numeric (right-aligned) column; `wrap` lets its words break on a small screen. */
export function NumHeader({ children, wrap = false }: { children: ComponentChildren; wrap?: boolean }) {
  return (
    <th scope="col" class={wrap ? 'num wrap' : 'num'}>
      {children}
    </th>
  );
}
