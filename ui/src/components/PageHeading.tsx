import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { takeFocusRequest } from '../lib/focus.ts';

interface Props {
  children: ComponentChildren;
  /** The document's title (before " · berth"); defaults to the heading's text when it is a string. */
  title?: string;
  class?: string;
}

/** The page's h1: sets the document title and receives focus after a navigation. */
export function PageHeading({ children, title, class: className }: Props) {
  const ref = useRef<HTMLHeadingElement>(null);
  const text = title ?? (typeof children === 'string' ? children : undefined);

  useEffect(() => {
    if (text !== undefined) document.title = text === 'berth' ? 'berth' : `${text} · berth`;
  }, [text]);

  useEffect(() => {
    if (takeFocusRequest()) ref.current?.focus({ preventScroll: false });
  }, []);

  return (
    <h1 ref={ref} tabIndex={-1} class={className ?? 'page-title'}>
      {children}
    </h1>
  );
}
