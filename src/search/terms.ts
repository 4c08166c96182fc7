/** The words of a search text: lower-case runs of letters and digits (names split at `/`, `-`, `_`, `.`). */
export function searchTerms(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length > 0)
    .slice(0, 16);
}
