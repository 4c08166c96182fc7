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

/** An attribute Chromium reports (as a CSP violation) as soon as it parses it: an event handler (`on…`) or `style`. */
const INLINE_ATTRIBUTE = /^(?:on|style$)/i;
/** Elements whose content is text up to their end tag, not markup. */
const RAW_TEXT: ReadonlySet<string> = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'iframe', 'noembed', 'noframes']);
const COMMENT_END = /--!?>/g;

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d;
}

function isAlpha(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/** Where a comment whose text starts at `from` ends (HTML's rules: `<!-->` and `<!--->` end at once). */
function commentEnd(html: string, from: number): number {
  if (html.startsWith('>', from)) return from + 1;
  if (html.startsWith('->', from)) return from + 2;
  COMMENT_END.lastIndex = from;
  const end = COMMENT_END.exec(html);
  return end === null ? html.length : end.index + end[0].length;
}

/** Where the raw text of a `name` element starting at `from` ends: at its end tag, or the end of input. */
function rawTextEnd(html: string, from: number, name: string): number {
  const endTag = new RegExp(`</${name}[\\t\\n\\f\\r />]`, 'gi');
  endTag.lastIndex = from;
  return endTag.exec(html)?.index ?? html.length;
}

interface Tag {
  name: string;
  /** Just past its `>`. */
  end: number;
  /** [from, to) of each inline attribute, with the space or `/` before it. */
  inline: [number, number][];
}

/** The end of a tag or attribute name starting at `from`: at a space, `/`, `>` (or `=`, for attributes). */
function nameEnd(html: string, from: number, stopAtEquals: boolean): number {
  let p = from;
  for (; p < html.length; p++) {
    const c = html.charCodeAt(p);
    if (isSpace(c) || c === 0x2f || c === 0x3e || (stopAtEquals && c === 0x3d)) break;
  }
  return p;
}

function skipSpace(html: string, from: number): number {
  let p = from;
  while (p < html.length && isSpace(html.charCodeAt(p))) p++;
  return p;
}

/**
 * The tag whose name starts at `start`, read as the HTML tokenizer reads it (names end at space,
 * `/` or `>`; values are quoted, or run to a space or `>`); undefined when the input ends inside
 * it, as the browser then drops it. Each character is looked at once.
 */
function readTag(html: string, start: number): Tag | undefined {
  const n = html.length;
  let p = nameEnd(html, start, false);
  const name = html.slice(start, p).toLowerCase();
  const inline: [number, number][] = [];
  for (;;) {
    const gap = p;
    while (p < n && (isSpace(html.charCodeAt(p)) || html.charCodeAt(p) === 0x2f)) p++;
    if (p >= n) return undefined;
    if (html.charCodeAt(p) === 0x3e) return { name, end: p + 1, inline };
    // An attribute: its name (a leading '=' belongs to it), then `= value` if one follows.
    const attributeStart = p;
    p = nameEnd(html, p + 1, true);
    const attribute = html.slice(attributeStart, p);
    const eq = skipSpace(html, p);
    if (html.charCodeAt(eq) === 0x3d) {
      const value = skipSpace(html, eq + 1);
      if (value >= n) return undefined;
      const quote = html[value];
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, value + 1);
        if (close === -1) return undefined;
        p = close + 1;
      } else {
        p = value;
        while (p < n && !isSpace(html.charCodeAt(p)) && html.charCodeAt(p) !== 0x3e) p++;
      }
    }
    if (INLINE_ATTRIBUTE.test(attribute)) inline.push([gap, p]);
  }
}

/**
 * Chromium reports (as CSP violations) every event handler and style attribute it merely parses,
 * even in the inert document DOMPurify parses into; they go before any parsing. Not a sanitiser:
 * DOMPurify, after this, is. The HTML is read once, left to right, as a browser's tokenizer reads
 * it (tags, comments, raw text), so the time taken grows with its length only: a regular expression
 * over start tags took seconds on a crafted description of 100 KB.
 */
export function stripInlineAttributes(html: string): string {
  const out: string[] = [];
  let copied = 0;
  let i = 0;
  for (;;) {
    const lt = html.indexOf('<', i);
    if (lt === -1) break;
    const next = html.charCodeAt(lt + 1);
    if (html.startsWith('<!--', lt)) {
      i = commentEnd(html, lt + 4);
      continue;
    }
    const endTag = next === 0x2f;
    if (!isAlpha(endTag ? html.charCodeAt(lt + 2) : next)) {
      // `<!…>`, `<?…>` and `</` not followed by a letter are bogus comments up to `>`; any other `<` is text.
      const bogus = next === 0x21 || next === 0x3f || endTag;
      const close = bogus ? html.indexOf('>', lt + 2) : lt;
      if (close === -1) break;
      i = close + 1;
      continue;
    }
    const tag = readTag(html, lt + (endTag ? 2 : 1));
    if (tag === undefined) break;
    for (const [from, to] of tag.inline) {
      out.push(html.slice(copied, from), ' ');
      copied = to;
    }
    i = tag.end;
    if (!endTag && tag.name === 'plaintext') break;
    if (!endTag && RAW_TEXT.has(tag.name)) i = rawTextEnd(html, i, tag.name);
  }
  out.push(html.slice(copied));
  return out.join('');
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
