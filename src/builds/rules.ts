/**
 * What a build rule builds: whether a Git reference (a branch or a tag) matches the rule's source,
 * a name or a regular expression written /like this/ (RE2 syntax, matched in linear time: re2js),
 * and the Docker tag it becomes: the template with {sourceref} (the reference's name) and the
 * regular expression's groups {1}..{9} (also written {\1}, as on Docker Hub) filled in.
 */
import { RE2JS } from 're2js';
import { isTag } from '../registry/reference.ts';
import { BuildRuleError } from './errors.ts';
import type { BuildRule, SourceType } from './model.ts';

export { BuildRuleError };

const MAX_SOURCE = 512;
const MAX_TAG_TEMPLATE = 256;
const PLACEHOLDER = /\{(sourceref|\\?[1-9])\}/g;

function regexOf(source: string): string | undefined {
  return source.length >= 2 && source.startsWith('/') && source.endsWith('/') ? source.slice(1, -1) : undefined;
}

function compile(pattern: string): RE2JS {
  try {
    return RE2JS.compile(pattern);
  } catch (err) {
    throw new BuildRuleError(`the source /${pattern}/ is not a regular expression berth can match: ${(err as Error).message}`);
  }
}

/** Whether a Git branch or tag name could be one (git check-ref-format's main rules). */
export function isRefName(name: string): boolean {
  if (name.length === 0 || name.length > 255) return false;
  if (name.startsWith('/') || name.endsWith('/') || name.endsWith('.') || name.startsWith('-')) return false;
  if (name.includes('..') || name.includes('//') || name.includes('@{') || name.endsWith('.lock')) return false;
  // eslint-disable-next-line no-control-regex
  return !/[\x00-\x20\x7f~^:?*[\\]/.test(name);
}

/** The problem with a rule's source and tag template, or undefined when it can work. */
export function ruleProblem(rule: Pick<BuildRule, 'source' | 'tag'>): string | undefined {
  if (rule.source.length === 0 || rule.source.length > MAX_SOURCE) return `the source must have 1 to ${MAX_SOURCE} characters`;
  const pattern = regexOf(rule.source);
  let groups = 0;
  if (pattern !== undefined) {
    try {
      groups = compile(pattern).groupCount();
    } catch (err) {
      return (err as Error).message;
    }
  } else if (!isRefName(rule.source)) {
    return `the source ${JSON.stringify(rule.source)} is neither a branch or tag name nor a /regular expression/`;
  }
  if (rule.tag.length === 0 || rule.tag.length > MAX_TAG_TEMPLATE) return `the tag must have 1 to ${MAX_TAG_TEMPLATE} characters`;
  for (const m of rule.tag.matchAll(PLACEHOLDER)) {
    const n = m[1] === 'sourceref' ? 0 : Number(m[1]?.replace('\\', ''));
    if (n > groups) return `the tag uses {${m[1]}}, but the source has ${groups === 0 ? 'no groups' : `only ${groups} group(s)`}`;
  }
  const literal = rule.tag.replace(PLACEHOLDER, 'x');
  if (!isTag(literal)) return `the tag ${JSON.stringify(rule.tag)} does not make a valid tag (letters, digits, '_', '.', '-'; at most 128)`;
  return undefined;
}

/**
 * The reference's match against the rule: the groups ([0] the whole name) when `ref` of type
 * `type` is one the rule builds, undefined otherwise.
 */
export function matchRef(rule: Pick<BuildRule, 'sourceType' | 'source'>, type: SourceType, ref: string): string[] | undefined {
  if (type !== rule.sourceType) return undefined;
  const pattern = regexOf(rule.source);
  if (pattern === undefined) return ref === rule.source ? [ref] : undefined;
  const m = compile(pattern).matcher(ref);
  if (!m.find()) return undefined;
  const groups: string[] = [];
  for (let i = 0; i <= m.groupCount(); i++) groups.push(m.group(i) ?? '');
  return groups;
}

/** A name made into a tag: characters a tag cannot hold become '-', cut to 128 ('feature/x' -> 'feature-x'). */
function tagSafe(text: string): string {
  const safe = text.replace(/[^a-zA-Z0-9._-]/g, '-').replace(/^[.-]+/, '');
  return safe.slice(0, 128);
}

/** The Docker tag a matched reference is pushed as; throws BuildRuleError when it makes no valid tag. */
export function tagFor(rule: Pick<BuildRule, 'tag'>, ref: string, groups: readonly string[]): string {
  const tag = rule.tag.replace(PLACEHOLDER, (_, name: string) => tagSafe(name === 'sourceref' ? ref : (groups[Number(name.replace('\\', ''))] ?? '')));
  if (!isTag(tag)) throw new BuildRuleError(`the reference ${JSON.stringify(ref)} makes the tag ${JSON.stringify(tag)}, which is not a valid tag`);
  return tag;
}

/** Whether the rule names one reference (not a regular expression): a manual trigger without a ref builds it. */
export function fixedRef(rule: Pick<BuildRule, 'source'>): string | undefined {
  return regexOf(rule.source) === undefined ? rule.source : undefined;
}
