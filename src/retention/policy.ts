/**
 * Retention policies (docs/retention.md): which repositories a policy covers, which one applies
 * when several cover a repository, their ages ("90d", "168h"), and keep patterns: RE2 regular
 * expressions, matched in time linear in the tag (re2js, a port of Go's RE2), so that no pattern a
 * namespace owner writes can stall the server.
 */
import { RE2JS } from 're2js';
import { formatDuration, parseDuration } from '../config/duration.ts';
import { globMatches } from '../registry/glob.ts';
import { isValidName } from '../registry/reference.ts';

export interface RetentionPolicy {
  /** Glob over repository names: `*` stands for any run of characters, `/` included. */
  repository: string;
  keep: {
    /** Keep the N tags pushed last (ties: the name that sorts last counts as newer). */
    newest?: number;
    /** Keep tags matching any of these regular expressions (RE2 syntax, unanchored). */
    tags: string[];
  };
  delete: {
    /** Delete tags neither pulled nor pushed for this long (ms). */
    notpulledfor?: number;
    /** Delete manifests without a tag pushed at least this long ago (ms). */
    untaggedafter?: number;
  };
}

/** A policy as the config file and the API write it: ages as text ("90d", "36h"). */
export interface RetentionPolicyConfig {
  repository: string;
  keep: { newest?: number | undefined; tags: string[] };
  delete: { notpulledfor?: string | undefined; untaggedafter?: string | undefined };
}

/** A checked policy (config/retention-schema.ts) with its ages in milliseconds. Throws a RangeError on a bad age. */
export function toPolicy(c: RetentionPolicyConfig): RetentionPolicy {
  const del: RetentionPolicy['delete'] = {};
  if (c.delete.notpulledfor !== undefined) del.notpulledfor = parseAge(c.delete.notpulledfor);
  if (c.delete.untaggedafter !== undefined) del.untaggedafter = parseAge(c.delete.untaggedafter);
  return { repository: c.repository, keep: { ...(c.keep.newest !== undefined && { newest: c.keep.newest }), tags: c.keep.tags }, delete: del };
}

/** Longest repository pattern (it is part of a settings key). */
export const MAX_PATTERN_LENGTH = 180;
/** Longest keep pattern, and most of them per policy. */
export const MAX_TAG_PATTERN_LENGTH = 200;
export const MAX_TAG_PATTERNS = 20;
/**
 * Most instructions a keep pattern may compile to, and a policy's keep patterns together. Matching
 * a tag costs at most its length times this: a thousand random 128-character tags took about
 * 0.13 s against `(\w?){100}\w{100}` (502), while real keep patterns take under 100
 * (`^v?[0-9]+(\.[0-9]+){0,3}(-rc[0-9]+)?$`: 34).
 */
export const MAX_TAG_PATTERN_PROGRAM = 500;
export const MAX_TAG_PATTERNS_PROGRAM = 1000;

const DAY_MS = 86_400_000;

/** Why a repository pattern is not one, or undefined when it is. */
export function repositoryPatternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return 'a repository pattern is required ("acme/*", "acme/app", "*")';
  if (pattern.length > MAX_PATTERN_LENGTH) return `a repository pattern is at most ${MAX_PATTERN_LENGTH} characters`;
  // Every `*` stands for at least one character of a name, so a pattern is a name with stars in it.
  if (!isValidName(pattern.replace(/\*+/g, 'x'))) {
    return `${JSON.stringify(pattern)} is not a repository name with * wildcards (lowercase letters, digits, . _ - separators, / between components)`;
  }
  return undefined;
}

/** What RE2 leaves out that a JavaScript pattern may use, told by the text of RE2's refusal. */
const UNSUPPORTED: readonly [RegExp, string][] = [
  [/`\\[1-9k]/, 'backreferences are not supported'],
  [/`\(\?<?[=!]/, 'lookahead and lookbehind are not supported'],
];

/**
 * Why a keep pattern is not one, or undefined when it is: it must compile with the engine that
 * matches it (RE2 syntax: no backreferences, no lookaround), to at most MAX_TAG_PATTERN_PROGRAM
 * instructions. The config check and the API refuse with this, so that matching never fails.
 */
export function tagPatternProblem(pattern: string): string | undefined {
  if (pattern.length > MAX_TAG_PATTERN_LENGTH) return `a tag pattern is at most ${MAX_TAG_PATTERN_LENGTH} characters`;
  let size: number;
  try {
    size = RE2JS.compile(pattern).programSize();
  } catch (err) {
    const message = (err as Error).message;
    const hint = UNSUPPORTED.find(([re]) => re.test(message))?.[1];
    return `${JSON.stringify(pattern)} is not a valid regular expression (RE2 syntax${hint === undefined ? '' : `: ${hint}`}): ${message}`;
  }
  if (size > MAX_TAG_PATTERN_PROGRAM) {
    return `${JSON.stringify(pattern)} is too complex: it compiles to ${size} instructions, at most ${MAX_TAG_PATTERN_PROGRAM} (use smaller repetition counts)`;
  }
  return undefined;
}

/** Why a policy's keep patterns are too much together, or undefined (those that do not compile count for nothing: tagPatternProblem says why). */
export function tagPatternsProblem(patterns: readonly string[]): string | undefined {
  const programSize = (p: string): number => {
    try {
      return RE2JS.compile(p).programSize();
    } catch {
      return 0;
    }
  };
  const size = patterns.reduce((sum, p) => sum + programSize(p), 0);
  if (size <= MAX_TAG_PATTERNS_PROGRAM) return undefined;
  return `the keep patterns compile to ${size} instructions together, at most ${MAX_TAG_PATTERNS_PROGRAM} (use fewer or simpler patterns)`;
}

/** An age: whole days ("90d") or a Go duration ("168h", "30m"); milliseconds, positive. Throws a RangeError. */
export function parseAge(text: string): number {
  const days = /^(\d+)d$/.exec(text);
  const ms = days ? Number(days[1]) * DAY_MS : parseDuration(text);
  if (!(ms > 0)) throw new RangeError(`${JSON.stringify(text)}: an age must be greater than zero`);
  return ms;
}

/** An age as parseAge reads it back: whole days as "90d", else a Go duration. */
export function formatAge(ms: number): string {
  return ms % DAY_MS === 0 ? `${ms / DAY_MS}d` : formatDuration(ms);
}

/** Whether a repository pattern covers a name (a `*` matches any run of characters, `/` included). */
export function patternCovers(pattern: string, name: string): boolean {
  // a valid pattern holds no `?` (repositoryPatternProblem): only `*` is a wildcard
  return globMatches(pattern, name);
}

/**
 * How specific a pattern is: an exact name beats every glob; among globs, more characters other
 * than `*` win. Higher is more specific.
 */
function specificity(pattern: string): number {
  return pattern.includes('*') ? pattern.replace(/\*/g, '').length : Number.MAX_SAFE_INTEGER;
}

/**
 * The policy that applies to a repository: of those covering it, the most specific (see
 * specificity); equally specific ones are told apart by their patterns' byte order, the first wins.
 */
export function policyFor<P extends Pick<RetentionPolicy, 'repository'>>(name: string, policies: readonly P[]): P | undefined {
  let best: P | undefined;
  for (const p of policies) {
    if (!patternCovers(p.repository, name)) continue;
    if (best === undefined) best = p;
    else {
      const a = specificity(p.repository);
      const b = specificity(best.repository);
      if (a > b || (a === b && p.repository < best.repository)) best = p;
    }
  }
  return best;
}

/** Each keep pattern list compiled once (a policy's list is shared by every repository it plans). */
const compiled = new WeakMap<readonly string[], RE2JS[]>();

function keepPatterns(patterns: readonly string[]): RE2JS[] {
  let regexps = compiled.get(patterns);
  if (regexps === undefined) {
    regexps = patterns.map((p) => {
      try {
        return RE2JS.compile(p);
      } catch (err) {
        throw new RangeError(`the keep pattern ${JSON.stringify(p)} cannot be matched: ${(err as Error).message}`);
      }
    });
    compiled.set(patterns, regexps);
  }
  return regexps;
}

/**
 * For each tag, the index of the first keep pattern it matches, or -1, in time linear in the tag
 * (RE2: a lazily built DFA, else an NFA; never backtracking). Patterns are checked by
 * tagPatternProblem first; one that does not compile throws a RangeError naming it.
 */
export function matchTagPatterns(patterns: readonly string[], tags: readonly string[]): number[] {
  if (patterns.length === 0) return tags.map(() => -1);
  const regexps = keepPatterns(patterns);
  return tags.map((tag) => regexps.findIndex((re) => re.test(tag)));
}
