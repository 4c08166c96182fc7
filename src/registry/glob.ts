/**
 * Glob matching for repository and tag patterns (retention policies, immutable tag rules): `*`
 * matches any run of characters (none too, `/` included), `?` one character; everything else is
 * itself. Hand-written rather than compiled to a RegExp, as glob libraries (picomatch, minimatch)
 * do: V8's backtracking makes `^a.*a.*a.*b$` against a long name of `a`s take minutes, and the
 * patterns come from users (a namespace owner's retention policy, matched against every
 * repository by each collection). This is the two-pointer match: on a mismatch it moves back to
 * the last `*` only, so it takes at most pattern × text steps.
 */

/** Whether `glob` matches the whole of `text`. */
export function globMatches(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  /** The last `*` seen, and where in the text it began to match. */
  let star = -1;
  let from = 0;
  while (t < text.length) {
    const c = glob[g];
    if (c === '*') {
      star = g++;
      from = t;
    } else if (c !== undefined && (c === '?' || c === text[t])) {
      g++;
      t++;
    } else if (star >= 0) {
      // let the last `*` take one more character, and match the rest again from there
      g = star + 1;
      t = ++from;
    } else return false;
  }
  while (glob[g] === '*') g++;
  return g === glob.length;
}
