/**
 * The policies in force: the config's `retention.policies`, with the ones administrators set through
 * /api/v1 (kept in the settings store under `retention/policies/<pattern>`) in place of a config
 * policy of the same pattern, or beside them. Deleting a stored policy brings back the config's.
 * A stored policy with no rule at all disables the config's policy of its pattern.
 */
import { retentionPolicySchema, type RetentionPolicyInput } from '../config/retention-schema.ts';
import type { Json, SettingsStore } from '../meta/settings.ts';
import { formatAge, toPolicy, type RetentionPolicy, type RetentionPolicyConfig } from './policy.ts';

export const SETTINGS_PREFIX = 'retention/policies/';

export interface EffectivePolicy extends RetentionPolicy {
  /** Where it comes from: the config file, or an edit through the API (which wins). */
  source: 'config' | 'api';
  updatedBy?: string;
  updatedAt?: number;
}

const stored = retentionPolicySchema(true);

/** The settings key of a policy's pattern. */
export function settingKey(pattern: string): string {
  return `${SETTINGS_PREFIX}${pattern}`;
}

/** A policy as the config file and the API write it (ages as text). */
export function policyJson(p: RetentionPolicy): RetentionPolicyInput & { [key: string]: Json } {
  const keep: { newest?: number; tags: string[] } = { tags: p.keep.tags };
  if (p.keep.newest !== undefined) keep.newest = p.keep.newest;
  const del: { notpulledfor?: string; untaggedafter?: string } = {};
  if (p.delete.notpulledfor !== undefined) del.notpulledfor = formatAge(p.delete.notpulledfor);
  if (p.delete.untaggedafter !== undefined) del.untaggedafter = formatAge(p.delete.untaggedafter);
  return { repository: p.repository, keep, delete: del };
}

/** The config's policies with the stored ones over them, in pattern order. */
export async function effectivePolicies(config: readonly RetentionPolicyConfig[], settings: Pick<SettingsStore, 'list'> | undefined): Promise<EffectivePolicy[]> {
  const byPattern = new Map<string, EffectivePolicy>();
  for (const p of config) byPattern.set(p.repository, { ...toPolicy(p), source: 'config' });
  for (const s of settings === undefined ? [] : await settings.list(SETTINGS_PREFIX)) {
    const parsed = stored.safeParse(s.value);
    // Written through the same schema: a value that no longer parses is left out, not guessed at.
    if (!parsed.success || settingKey(parsed.data.repository) !== s.key) continue;
    byPattern.set(parsed.data.repository, { ...toPolicy(parsed.data), source: 'api', updatedBy: s.updatedBy, updatedAt: s.updatedAt });
  }
  return [...byPattern.values()].sort((a, b) => (a.repository < b.repository ? -1 : a.repository > b.repository ? 1 : 0));
}
