/**
 * Retention as the management API and the garbage collection run use it: the policies in force
 * (config + settings, policies.ts), who may edit which policy, previews, and applying them.
 *
 * Who may edit a policy: administrators any; otherwise a caller who may delete in every repository
 * the pattern can cover, as decided by the one access policy (auth/policy.ts): for an exact name,
 * that repository's administrators; for `ns/...` with a literal namespace, whoever holds delete on
 * the whole namespace (its user, an organisation's owners, a team with the admin role on all of its
 * repositories). A pattern whose namespace has a `*` in it is for administrators only. Retention
 * deletes nothing such a caller could not delete by hand.
 */
import type { Logger } from 'pino';
import type { AccessPolicy } from '../auth/policy.ts';
import { isAdmin, principalName, type Principal } from '../auth/principal.ts';
import type { SettingsStore } from '../meta/settings.ts';
import type { TagActivityStore } from '../meta/tag-activity.ts';
import type { Registry } from '../registry/registry.ts';
import { applyRetention, type RetentionReport } from './apply.ts';
import { planRetention, type HeldTags, type RetentionPlan } from './planner.ts';
import type { ImmutableTags } from '../registry/immutable.ts';
import { effectivePolicies, policyJson, settingKey, type EffectivePolicy } from './policies.ts';
import { policyFor, type RetentionPolicy, type RetentionPolicyConfig } from './policy.ts';

export interface RetentionServiceOptions {
  /** Where repositories are read, and (to apply) the served manifest store deletes go through; a preview needs no `manifests`. */
  registry: Pick<Registry, 'meta'> & Partial<Pick<Registry, 'manifests'>>;
  store: TagActivityStore;
  settings?: SettingsStore;
  /** The config's policies (retention.policies), ages as written. */
  config: readonly RetentionPolicyConfig[];
  /** Immutable tag rules: tags they hold are kept, and the preview says so. */
  immutable?: Pick<ImmutableTags, 'rules' | 'ruleFor'>;
  /** Decides repository rights; absent (no access control), anyone may edit. */
  access?: Pick<AccessPolicy, 'canAdminister'>;
  now?: () => number;
  log?: Logger;
}

export class RetentionService {
  /** The immutable tags among those a policy would delete, with the rule that holds each. */
  private readonly held: HeldTags | undefined;

  constructor(private readonly opts: RetentionServiceOptions) {
    this.held = opts.immutable && heldBy(opts.immutable);
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }


  /** Every policy in force (the config's, with edits over them), in pattern order. */
  policies(): Promise<EffectivePolicy[]> {
    return effectivePolicies(this.opts.config, this.opts.settings);
  }

  /** The policy that applies to a repository, if any. */
  async policyOf(repository: string): Promise<EffectivePolicy | undefined> {
    return policyFor(repository, await this.policies());
  }

  /** Whether `who` may set or remove the policy of `pattern` (see the file's comment). */
  async mayEdit(who: Principal, pattern: string, unrestricted = false): Promise<boolean> {
    if (unrestricted || isAdmin(who) || this.opts.access === undefined) return true;
    if (who.kind !== 'user') return false;
    if (!pattern.includes('*')) return this.opts.access.canAdminister(who, pattern);
    const slash = pattern.indexOf('/');
    const namespace = slash < 0 ? '' : pattern.slice(0, slash);
    if (namespace === '' || namespace.includes('*')) return false;
    // No repository is granted under this name (a `*` is never part of one): only namespace-wide rights answer.
    return this.opts.access.canAdminister(who, `${namespace}/*`);
  }

  /** Store a policy (replacing one of the same pattern, and the config's); the settings store must exist. */
  async put(policy: RetentionPolicy, who: Principal): Promise<EffectivePolicy> {
    const settings = this.requireSettings();
    const s = await settings.put(settingKey(policy.repository), policyJson(policy), principalName(who));
    return { ...policy, source: 'api', updatedBy: s.updatedBy, updatedAt: s.updatedAt };
  }

  /** Remove a stored policy (the config's of the same pattern applies again); whether there was one. */
  remove(pattern: string): Promise<boolean> {
    return this.requireSettings().delete(settingKey(pattern));
  }

  /** The dry run, of every repository, one, or those a pattern covers. */
  async preview(repository?: string, within?: string): Promise<RetentionPlan> {
    return planRetention({
      meta: this.opts.registry.meta,
      store: this.opts.store,
      policies: await this.policies(),
      now: this.now(),
      ...(repository !== undefined && { repository }),
      ...(within !== undefined && { within }),
      ...(this.held !== undefined && { held: this.held }),
    });
  }

  /** Apply the policies now (garbage collection calls this at the start of each run). */
  async apply(dryRun: boolean): Promise<RetentionReport> {
    const { meta, manifests } = this.opts.registry;
    if (manifests === undefined) throw new Error('retention is applied through the registry\'s served manifest store, which this service was not given');
    return applyRetention({
      registry: { meta, manifests },
      store: this.opts.store,
      policies: await this.policies(),
      now: this.now(),
      dryRun,
      ...(this.held !== undefined && { held: this.held }),
      ...(this.opts.log !== undefined && { log: this.opts.log }),
    });
  }

  private requireSettings(): SettingsStore {
    if (this.opts.settings === undefined) throw new Error('this registry keeps no settings: retention policies come from the config only');
    return this.opts.settings;
  }
}

function heldBy(immutable: Pick<ImmutableTags, 'rules' | 'ruleFor'>): HeldTags {
  return async (repository, tags) => {
    const rules = await immutable.rules();
    const held = new Map<string, string>();
    for (const tag of tags) {
      const rule = await immutable.ruleFor(repository, tag, rules);
      if (rule !== undefined) held.set(tag, `immutable (rule ${JSON.stringify(rule.repository)}: ${rule.tags.join(', ')})`);
    }
    return held;
  };
}
