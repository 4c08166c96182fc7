/**
 * Retention policies (docs/retention.md): which repositories a policy covers, which one applies
 * when several cover a repository, their ages ("90d", "168h"), and keep patterns matched under a
 * time limit, so that a pathological regular expression stalls nothing.
 */
import vm from 'node:vm';
import { formatDuration, parseDuration } from '../config/duration.ts';
import { globMatches } from '../registry/glob.ts';
import { isValidName } from '../registry/reference.ts';

export interface RetentionPolicy {
  /** Glob over repository names: `*` stands for any run of characters, `/` included. */
  repository: string;
  keep: {
    /** Keep the N tags pushed last (ties: the name that sorts last counts as newer). */
    newest?: number;
    /** Keep tags matching any of these regular expressions (JavaScript syntax, unanchored). */
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
/** How long one policy's keep patterns may take over one repository's tags. */
export const MATCH_TIMEOUT_MS = 1000;

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

/** Why a keep pattern is not a valid regular expression, or undefined when it is. */
export function tagPatternProblem(pattern: string): string | undefined {
  if (pattern.length > MAX_TAG_PATTERN_LENGTH) return `a tag pattern is at most ${MAX_TAG_PATTERN_LENGTH} characters`;
  try {
    new RegExp(pattern);
    return undefined;
  } catch (err) {
    return `${JSON.stringify(pattern)} is not a valid regular expression: ${(err as Error).message}`;
  }
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

/** The keep patterns took longer than MATCH_TIMEOUT_MS: the policy decides nothing (nothing is deleted). */
export class PatternTimeoutError extends Error {
  readonly code = 'BERTH_RETENTION_PATTERN_TIMEOUT';
  constructor(patterns: readonly string[], timeoutMs: number) {
    super(`the keep patterns ${JSON.stringify(patterns)} took more than ${timeoutMs} ms to match the tags: the policy is skipped (simplify the patterns)`);
  }
}

const matcher = new vm.Script(
  'Array.from(tags, (tag) => { for (let i = 0; i < patterns.length; i++) if (new RegExp(patterns[i]).test(tag)) return i; return -1; })',
);

/**
 * For each tag, the index of the first keep pattern it matches, or -1. Run in a context of its
 * own under a time limit: a pattern whose matching explodes (`(a+)+$`) throws PatternTimeoutError
 * instead of holding the process.
 */
export function matchTagPatterns(patterns: readonly string[], tags: readonly string[], timeoutMs = MATCH_TIMEOUT_MS): number[] {
  if (patterns.length === 0) return tags.map(() => -1);
  const context = vm.createContext({ patterns: [...patterns], tags: [...tags] });
  try {
    return Array.from(matcher.runInContext(context, { timeout: timeoutMs }) as ArrayLike<number>);
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new PatternTimeoutError(patterns, timeoutMs);
    throw err;
  }
}
