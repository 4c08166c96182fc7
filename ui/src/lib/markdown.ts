/**
 * A repository's Markdown description as safe DOM: marked renders it, DOMPurify removes anything
 * active, then links get rel="noopener noreferrer", images other than inline data: ones become
 * links (the UI makes no request elsewhere; the CSP would block them anyway), inline styles go, and
 * headings move down under the page's own (h1 -> h3 ...).
 */
import DOMPurify from 'dompurify';
import { marked } from 'marked';

/** Only inline images load: a README's other images would be requests elsewhere or to files the registry does not hold. */
function inlineImage(src: string): boolean {
  return /^data:image\/(png|gif|jpeg|webp);/i.test(src);
}

function fix(fragment: DocumentFragment, headingOffset: number): void {
  for (const a of fragment.querySelectorAll('a')) {
    a.setAttribute('rel', 'noopener noreferrer');
    if (a.hasAttribute('target')) a.setAttribute('target', '_blank');
  }
  for (const img of fragment.querySelectorAll('img')) {
    const src = img.getAttribute('src') ?? '';
    if (inlineImage(src)) continue;
    // Only web addresses become links; anything else (a data: document, say) is dropped with its image.
    if (!/^(https?:|\/|\.{0,2}\/|#)|^[^:]*$/i.test(src)) {
      img.remove();
      continue;
    }
    const link = document.createElement('a');
    link.href = src;
    link.rel = 'noopener noreferrer';
    link.textContent = img.getAttribute('alt') || src || 'image';
    img.replaceWith(link);
  }
  for (const heading of fragment.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
    const level = Math.min(6, Number(heading.tagName.slice(1)) + headingOffset);
    const replacement = document.createElement(`h${level}`);
    if (heading.id !== '') replacement.id = heading.id;
    replacement.append(...heading.childNodes);
    heading.replaceWith(replacement);
  }
}

// A start tag, its attributes quoted or not; and one event handler or style attribute in it.
const START_TAG = /<[a-z][a-z0-9-]*(?:[\s/]+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*[\s/]*>/gi;
const INLINE_ATTRIBUTE = /[\s/]+(?:on[a-z0-9_-]*|style)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?/gi;

/**
 * Chromium reports (as CSP violations) every event handler and style attribute it merely parses,
 * even in the inert document DOMPurify parses into; they go before any parsing. Not a sanitiser:
 * DOMPurify, after this, is.
 */
export function stripInlineAttributes(html: string): string {
  return html.replace(START_TAG, (tag) => tag.replace(INLINE_ATTRIBUTE, ''));
}

export function renderMarkdown(markdown: string, headingOffset = 2): DocumentFragment {
  const html = stripInlineAttributes(marked.parse(markdown, { async: false, gfm: true, breaks: false }));
  const fragment = DOMPurify.sanitize(html, {
    RETURN_DOM_FRAGMENT: true,
    USE_PROFILES: { html: true },
    FORBID_ATTR: ['style'],
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select'],
  });
  fix(fragment, headingOffset);
  return fragment;
}
