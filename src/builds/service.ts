/**
 * Automated builds, the domain: rules set up per repository, builds queued by a webhook, a poll
 * or a person, and read back with their logs. Running them is the runner's (runner.ts). No HTTP in
 * here; the API (http/handlers/api-builds.ts) and the CLI (cli/builds.ts) call these methods, and
 * who may call them is decided where every access is (http/authorize.ts).
 */
import { randomBytes } from 'node:crypto';
import { isValidName } from '../registry/reference.ts';
import { buildArgProblem } from './buildah.ts';
import { gitUrlProblem, isFileUrl, listRemote, type GitCredential } from './git.ts';
import { readHook, type HookOutcome } from './hooks.ts';
import type { Build, BuildRule, BuildStore, CredentialKind, LogChunk, SourceType, StoredBuildRule } from './model.ts';
import { BuildNotFoundError, BuildRuleError } from './errors.ts';
import { fixedRef, isRefName, matchRef, ruleProblem, tagFor } from './rules.ts';
import type { Sandbox } from './sandbox.ts';
import type { SecretBox } from '../secrets/secret-box.ts';


/** What a rule is made of, as the API and the CLI give it. */
export interface RuleInput {
  gitUrl: string;
  sourceType: SourceType;
  source: string;
  tag: string;
  dockerfile?: string;
  context?: string;
  buildArgs?: Record<string, string>;
  poll?: boolean;
  /** A token (or user:token) or an SSH private key; stored sealed, never shown again. */
  credential?: { kind: CredentialKind; secret: string } | null;
}

/** Who asks: a user's name (null: anonymous, with access control off) and whether they administer the registry. */
export interface Actor {
  name: string | null;
  admin: boolean;
}

export interface CreatedRule {
  rule: BuildRule;
  /** The webhook's secret: shown once, here. */
  hookSecret: string;
}

export interface BuildServiceDeps {
  store: BuildStore;
  box: SecretBox;
  /** Wake the runner: a build was queued. */
  wake: () => void;
  /** A build was asked to stop: the runner stops it at once when it runs on this node (other nodes see it at their next lease renewal). */
  stopping?: (id: number) => void;
  /** A scratch directory for `git ls-remote` (a manual trigger of a rule that matches by regex). */
  scratch: () => Promise<{ dir: string; done: () => Promise<void> }>;
  now?: () => number;
  /** What git runs in (sandbox.ts). */
  sandbox?: Sandbox;
}

const MAX_ARGS = 64;
/** Rules of one repository: each is a webhook, a poll and a queue of its own. */
const MAX_RULES = 32;
/**
 * Builds one rule may have queued. A reference queues at most one (store.enqueue), so this bounds
 * a regex rule whose remote pushes many tags at once, and anyone who holds its webhook secret.
 */
export const MAX_QUEUED_PER_RULE = 50;
const MAX_PATH = 1024;

function publicRule(r: StoredBuildRule): BuildRule {
  const { sealedHookSecret: _h, sealedCredential: _c, ...rule } = r;
  return rule;
}

function pathProblem(what: string, value: string): string | undefined {
  if (value.length === 0 || value.length > MAX_PATH || value.includes('\0')) return `the ${what} must be a path of 1 to ${MAX_PATH} characters`;
  if (value.startsWith('/')) return `the ${what} is a path inside the repository, not an absolute one`;
  if (value.split('/').includes('..')) return `the ${what} may not go up with ".."`;
  return undefined;
}

export class BuildService {
  private readonly now: () => number;

  constructor(private readonly deps: BuildServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The rule as stored once checked; throws BuildRuleError with the reason. */
  private async checked(repository: string, input: RuleInput, actor: Actor, id: string, hookSecret: string, created?: StoredBuildRule): Promise<StoredBuildRule> {
    if (!isValidName(repository)) throw new BuildRuleError(`invalid repository name ${JSON.stringify(repository)}`);
    const problem =
      gitUrlProblem(input.gitUrl) ??
      (input.sourceType !== 'branch' && input.sourceType !== 'tag' ? 'the source type is branch or tag' : undefined) ??
      ruleProblem(input) ??
      pathProblem('Dockerfile', input.dockerfile ?? 'Dockerfile') ??
      pathProblem('context', input.context ?? '.');
    if (problem !== undefined) throw new BuildRuleError(problem);
    // A file:// remote reads the server's own disk: registry administrators only (or no access control at all).
    if (isFileUrl(input.gitUrl) && actor.name !== null && !actor.admin) throw new BuildRuleError('only registry administrators may build from a file:// remote');
    const args = input.buildArgs ?? {};
    if (Object.keys(args).length > MAX_ARGS) throw new BuildRuleError(`at most ${MAX_ARGS} build arguments`);
    for (const [k, v] of Object.entries(args)) {
      const problem = buildArgProblem(k);
      if (problem !== undefined) throw new BuildRuleError(problem);
      if (typeof v !== 'string' || v.length > 4096 || v.includes('\0')) throw new BuildRuleError(`the build argument ${k} must be text of at most 4096 characters`);
    }
    const cred = input.credential;
    if (cred != null && (cred.secret.length === 0 || cred.secret.length > 16_384 || (cred.kind !== 'token' && cred.kind !== 'ssh'))) {
      throw new BuildRuleError('a credential is a token or an SSH private key of at most 16 KiB');
    }
    // A credential belongs to its URL: a rule pointed elsewhere must be given one again (null: none),
    // or its token would go to whatever host the editor names.
    if (created !== undefined && cred === undefined && created.credential !== null && created.gitUrl !== input.gitUrl) {
      throw new BuildRuleError('the Git URL changed: give the credential again (credential: null for none)');
    }
    const now = this.now();
    const keepCredential = cred === undefined && created !== undefined;
    return {
      id,
      repository,
      gitUrl: input.gitUrl,
      sourceType: input.sourceType,
      source: input.source,
      tag: input.tag,
      dockerfile: input.dockerfile ?? 'Dockerfile',
      context: input.context ?? '.',
      buildArgs: args,
      poll: input.poll ?? false,
      credential: keepCredential ? created.credential : (cred?.kind ?? null),
      // Builds push, and pull their base images, with the rights of whoever last set the rule up.
      createdBy: actor.name ?? created?.createdBy ?? null,
      createdAt: created?.createdAt ?? now,
      updatedAt: now,
      sealedHookSecret: await this.deps.box.seal(`${id}/hook`, hookSecret),
      sealedCredential: keepCredential ? created.sealedCredential : cred == null ? null : await this.deps.box.seal(`${id}/credential`, cred.secret),
    };
  }

  async addRule(repository: string, input: RuleInput, actor: Actor): Promise<CreatedRule> {
    const id = randomBytes(12).toString('base64url');
    const hookSecret = randomBytes(32).toString('base64url');
    const stored = await this.checked(repository, input, actor, id, hookSecret);
    if ((await this.deps.store.listRules(repository)).length >= MAX_RULES) throw new BuildRuleError(`${repository} has ${MAX_RULES} build rules, as many as a repository may`);
    await this.deps.store.putRule(stored);
    return { rule: publicRule(stored), hookSecret };
  }

  /** Replace a rule's settings; its id, webhook secret and (unless given) credential stay. */
  async updateRule(repository: string, id: string, input: RuleInput, actor: Actor): Promise<BuildRule> {
    const current = await this.rule(repository, id);
    const hookSecret = await this.deps.box.open(`${id}/hook`, current.sealedHookSecret);
    const stored = await this.checked(repository, input, actor, id, hookSecret, current);
    await this.deps.store.putRule(stored);
    return publicRule(stored);
  }

  async removeRule(repository: string, id: string): Promise<void> {
    await this.rule(repository, id);
    await this.deps.store.deleteRule(id);
  }

  async rules(repository: string): Promise<BuildRule[]> {
    return (await this.deps.store.listRules(repository)).map(publicRule);
  }

  private async rule(repository: string, id: string): Promise<StoredBuildRule> {
    const rule = await this.deps.store.getRule(id);
    if (rule === undefined || rule.repository !== repository) throw new BuildNotFoundError(`no build rule ${id} in ${repository}`);
    return rule;
  }

  /** The rule's Git credential, opened (for the runner and polling). */
  async credentialOf(rule: StoredBuildRule): Promise<GitCredential | undefined> {
    if (rule.credential === null || rule.sealedCredential === null) return undefined;
    return { kind: rule.credential, secret: await this.deps.box.open(`${rule.id}/credential`, rule.sealedCredential) };
  }

  /** Queue a build of each rule that builds `ref`, once per rule; returns them. */
  async queueFor(rules: readonly StoredBuildRule[], ref: { type: SourceType; name: string; commit: string | null }, trigger: Build['trigger'], requestedBy: string | null): Promise<Build[]> {
    const queued: Build[] = [];
    for (const rule of rules) {
      const groups = matchRef(rule, ref.type, ref.name);
      if (groups === undefined) continue;
      const tag = tagFor(rule, ref.name, groups);
      queued.push(await this.deps.store.enqueue({ repository: rule.repository, ruleId: rule.id, ref: ref.name, commit: ref.commit, tag, trigger, requestedBy }, this.now(), MAX_QUEUED_PER_RULE));
    }
    if (queued.length > 0) this.deps.wake();
    return queued;
  }

  /**
   * Build by hand: `rule` (else every rule of the repository) for `ref` (a branch or tag name,
   * or refs/heads/x, refs/tags/x; without one, the name a rule follows). A rule that matches by
   * regular expression needs a ref, or builds the remote's references it matches now.
   */
  async trigger(repository: string, opts: { rule?: string; ref?: string }, actor: Actor): Promise<Build[]> {
    const rules = opts.rule !== undefined ? [await this.rule(repository, opts.rule)] : await this.deps.store.listRules(repository);
    if (rules.length === 0) throw new BuildNotFoundError(`${repository} has no build rules`);
    const queued: Build[] = [];
    for (const rule of rules) {
      for (const ref of await this.refsToBuild(rule, opts.ref)) queued.push(...(await this.queueFor([rule], ref, 'manual', actor.name)));
    }
    if (queued.length === 0) throw new BuildRuleError(opts.ref === undefined ? 'no rule names a reference to build: give one (ref)' : `no rule of ${repository} builds ${opts.ref}`);
    return queued;
  }

  private async refsToBuild(rule: StoredBuildRule, ref: string | undefined): Promise<{ type: SourceType; name: string; commit: null }[]> {
    if (ref !== undefined) {
      const name = ref.replace(/^refs\/(heads|tags)\//, '');
      if (!isRefName(name)) throw new BuildRuleError(`${JSON.stringify(ref.slice(0, 100))} is not a branch or tag name`);
      const full = /^refs\/(heads|tags)\/(.+)$/.exec(ref);
      if (full?.[2] !== undefined) return [{ type: full[1] === 'heads' ? 'branch' : 'tag', name: full[2], commit: null }];
      return [{ type: rule.sourceType, name: ref, commit: null }];
    }
    const fixed = fixedRef(rule);
    if (fixed !== undefined) return [{ type: rule.sourceType, name: fixed, commit: null }];
    const scratch = await this.deps.scratch();
    try {
      const remote = await listRemote(rule.gitUrl, scratch.dir, await this.credentialOf(rule), this.deps.sandbox);
      return remote.filter((r) => matchRef(rule, r.type, r.name) !== undefined).map((r) => ({ type: r.type, name: r.name, commit: null }));
    } finally {
      await scratch.done();
    }
  }

  /**
   * A webhook delivery to rule `id` of `repository`: verified with that rule's secret, it builds
   * every rule of the repository that follows the same Git URL and matches what moved.
   */
  async hook(repository: string, id: string, headers: Record<string, string | string[] | undefined>, body: Buffer): Promise<{ outcome: HookOutcome; builds: Build[] }> {
    const rule = await this.rule(repository, id);
    const outcome = readHook(headers, body, await this.deps.box.open(`${id}/hook`, rule.sealedHookSecret));
    if (outcome.kind !== 'push') return { outcome, builds: [] };
    const siblings = (await this.deps.store.listRules(repository)).filter((r) => r.gitUrl === rule.gitUrl);
    const builds: Build[] = [];
    for (const ref of outcome.refs) builds.push(...(await this.queueFor(siblings, ref, 'hook', null)));
    return { outcome, builds };
  }

  async builds(repository: string, opts: { limit?: number; before?: number } = {}): Promise<Build[]> {
    return this.deps.store.list(repository, opts);
  }

  async build(repository: string, id: number): Promise<Build> {
    const build = await this.deps.store.get(repository, id);
    if (build === undefined) throw new BuildNotFoundError(`no build ${id} of ${repository}`);
    return build;
  }

  /** Cancel a queued build, or stop a running one (its runner sees the request within seconds). */
  async cancel(repository: string, id: number): Promise<Build> {
    const build = await this.deps.store.requestCancel(repository, id, this.now());
    if (build === undefined) throw new BuildNotFoundError(`no build ${id} of ${repository}`);
    if (build.status === 'running') this.deps.stopping?.(id);
    return build;
  }

  async log(repository: string, id: number, fromSeq = 0): Promise<{ build: Build; chunks: LogChunk[] }> {
    const build = await this.build(repository, id);
    return { build, chunks: await this.deps.store.readLog(id, fromSeq) };
  }
}
