/**
 * Immutable tags (docs/ui-api.md, `access.immutable`): rules of a repository pattern and tag
 * patterns; a tag a rule covers can be neither moved to another manifest nor deleted, nor can the
 * manifest it points at. The config's rules are defaults; administrators add, replace and lift
 * rules through /api/v1, kept in the settings store under `immutable/<pattern>` (a rule of the
 * config lifted is an entry `{"disabled": true}`). A rule holds for everyone, administrators
 * included, until it is lifted: there is no bypass. Enforced as a ContentGuard (policy.ts) of the
 * manifest service, so every path that pushes or deletes passes it.
 *
 * Known limit: the check and the write are two steps. Two first pushes of the same new tag with
 * different manifests at the same instant may both pass, and the later one wins; a tag that
 * exists is never moved.
 */
import type { MetaStore } from '../meta/store.ts';
import type { SettingsStore } from '../meta/settings.ts';
import { patternCovers } from '../retention/policy.ts';
import { TagImmutableError } from './errors.ts';
import { globMatches } from './glob.ts';
import type { ContentGuard } from './policy.ts';
import type { Reference } from './reference.ts';

export interface ImmutableRule {
  /** Glob over repository names: `*` stands for any run of characters, `/` included. */
  repository: string;
  /** Globs over tag names: `*` any run of characters, `?` one. */
  tags: string[];
}

export interface EffectiveImmutableRule extends ImmutableRule {
  /** Where the rule in force comes from: the config file, or an administrator through the API. */
  source: 'config' | 'api';
  /** A config rule an administrator lifted: it holds nothing until set again. */
  disabled: boolean;
  /** The config's tags for this pattern, when the config has a rule for it. */
  configTags: string[] | null;
  updatedBy?: string;
  updatedAt?: number;
}

const PREFIX = 'immutable/';
export const MAX_TAG_GLOBS = 20;
const TAG_GLOB = /^[A-Za-z0-9_.*?-][A-Za-z0-9_.*?-]{0,127}$/;

/** Why a tag glob is not one, or undefined. */
export function tagGlobProblem(glob: string): string | undefined {
  return TAG_GLOB.test(glob) ? undefined : `${JSON.stringify(glob)} is not a tag pattern (1-128 of A-Z a-z 0-9 _ . - and the wildcards * and ?)`;
}

/** Whether a tag glob covers a tag. */
export function tagGlobCovers(glob: string, tag: string): boolean {
  return globMatches(glob, tag);
}

function describe(rule: EffectiveImmutableRule): string {
  const from = rule.source === 'config' ? 'access.immutable in the config' : `set by ${rule.updatedBy ?? 'an administrator'}`;
  return `repository ${JSON.stringify(rule.repository)}, tags ${rule.tags.map((t) => JSON.stringify(t)).join(', ')} (${from})`;
}

export class ImmutableTags implements ContentGuard {
  constructor(
    private readonly config: readonly ImmutableRule[],
    private readonly settings: SettingsStore | undefined,
    private readonly meta: Pick<MetaStore, 'resolveTag' | 'tagsOf'>,
  ) {}

  /** Every rule, the config's overridden by the API's of the same pattern, in pattern order. */
  async rules(): Promise<EffectiveImmutableRule[]> {
    const byPattern = new Map<string, EffectiveImmutableRule>();
    for (const rule of this.config) {
      const known = byPattern.get(rule.repository);
      const tags = [...new Set([...(known?.tags ?? []), ...rule.tags])];
      byPattern.set(rule.repository, { repository: rule.repository, tags, source: 'config', disabled: false, configTags: tags });
    }
    for (const s of this.settings === undefined ? [] : await this.settings.list(PREFIX)) {
      const repository = s.key.slice(PREFIX.length);
      const value = s.value as { tags?: unknown; disabled?: unknown } | null;
      const tags = Array.isArray(value?.tags) ? value.tags.filter((t): t is string => typeof t === 'string') : [];
      const configTags = byPattern.get(repository)?.configTags ?? null;
      const disabled = value?.disabled === true;
      byPattern.set(repository, { repository, tags: disabled ? [] : tags, source: 'api', disabled, configTags, updatedBy: s.updatedBy, updatedAt: s.updatedAt });
    }
    return [...byPattern.values()].sort((a, b) => (a.repository < b.repository ? -1 : a.repository > b.repository ? 1 : 0));
  }

  /** The first rule in force that holds `tag` of `repo`, or undefined. */
  async ruleFor(repo: string, tag: string, rules?: readonly EffectiveImmutableRule[]): Promise<EffectiveImmutableRule | undefined> {
    return (rules ?? (await this.rules())).find((r) => !r.disabled && patternCovers(r.repository, repo) && r.tags.some((g) => tagGlobCovers(g, tag)));
  }

  /** Set the rule of a pattern (replacing the config's of the same pattern), its tags once each. Patterns must be checked by the caller. */
  async put(rule: ImmutableRule, by: string): Promise<EffectiveImmutableRule> {
    const settings = this.required();
    await settings.put(PREFIX + rule.repository, { tags: [...new Set(rule.tags)] }, by);
    return (await this.rules()).find((r) => r.repository === rule.repository) as EffectiveImmutableRule;
  }

  /**
   * Lift the rule of a pattern: the API's is removed; the config's, if any, is disabled by an entry
   * that says so. False when no rule of that pattern is in force.
   */
  async lift(repository: string, by: string): Promise<boolean> {
    const settings = this.required();
    const rule = (await this.rules()).find((r) => r.repository === repository);
    if (rule === undefined || rule.disabled) return false;
    if (rule.configTags !== null) await settings.put(PREFIX + repository, { disabled: true }, by);
    else await settings.delete(PREFIX + repository);
    return true;
  }

  /** Drop the API's entry of a pattern, so that the config's rule (if any) holds again. */
  async reset(repository: string): Promise<boolean> {
    return this.required().delete(PREFIX + repository);
  }

  async manifestPut(repo: string, manifest: { digest: string }, tag: string | undefined): Promise<void> {
    if (tag === undefined) return;
    const rule = await this.ruleFor(repo, tag);
    if (rule === undefined) return;
    const current = await this.meta.resolveTag(repo, tag);
    if (current === undefined || current.digest === manifest.digest) return;
    throw new TagImmutableError(`tag ${JSON.stringify(tag)} of ${repo} is immutable and points at ${current.digest}: it cannot be moved (rule: ${describe(rule)})`, {
      repository: repo,
      tag,
      digest: current.digest,
      rule: { repository: rule.repository, tags: rule.tags, source: rule.source },
    });
  }

  async manifestDelete(repo: string, ref: Reference): Promise<void> {
    const rules = await this.rules();
    if (!rules.some((r) => !r.disabled && patternCovers(r.repository, repo))) return;
    const tags = ref.kind === 'tag' ? [ref.tag] : await this.meta.tagsOf(repo, ref.digest);
    for (const tag of tags) {
      const rule = await this.ruleFor(repo, tag, rules);
      if (rule === undefined) continue;
      const what = ref.kind === 'tag' ? `tag ${JSON.stringify(tag)}` : `manifest ${ref.digest}, tagged ${JSON.stringify(tag)},`;
      throw new TagImmutableError(`${what} of ${repo} is immutable: it cannot be deleted (rule: ${describe(rule)})`, {
        repository: repo,
        tag,
        rule: { repository: rule.repository, tags: rule.tags, source: rule.source },
      });
    }
  }

  private required(): SettingsStore {
    if (this.settings === undefined) throw new Error('this registry keeps no settings: immutable tag rules come from the config alone');
    return this.settings;
  }
}
