import { useEffect, useRef } from 'preact/hooks';
import { renderMarkdown } from '../lib/markdown.ts';

/** Sanitised Markdown, put into the page as DOM nodes (never as an HTML string). */
export function Markdown({ source, headingOffset = 2 }: { source: string; headingOffset?: number }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.replaceChildren(renderMarkdown(source, headingOffset));
  }, [source, headingOffset]);
  return <div ref={ref} class="markdown" />;
}
