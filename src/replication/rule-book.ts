/**
 * The replication rules in force: the configuration file's (replication.rules, read-only here) and
 * those administrators make through the API or the CLI (kept in the ReplicationRuleStore, the
 * remote's password sealed with berth's key and never shown again).
 *
 * Both kinds have one definition (config/replication-schema.ts): an API body is a rule as the
 * config would hold it. A change keeps the stored password when the remote's URL and user stay the
 * same (and `insecure` too) and no password is given; a new remote or user needs the password
 * again, so that a sealed password is only ever sent where it was first given for; the sealing
 * binds it to that endpoint as well.
 *
 * Every node reloads the stored rules (Replication.start's timer, and at once after a change it
 * made), so a rule made on one node runs on all.
 */
import type { Logger } from 'pino';
import { replicationRuleSchema, type ReplicationRule } from '../config/replication-schema.ts';
import { describeIssues } from '../config/zod-issues.ts';
import { SealedSecretError, type SecretBox } from '../secrets/secret-box.ts';
import { ReplicationRuleConfiguredError, ReplicationRuleExistsError, ReplicationRuleInvalidError, ReplicationRulesFullError, ReplicationRuleUnknownError } from './errors.ts';
import { MAX_STORED_RULES, type ReplicationRuleStore, type StoredRule } from './model.ts';

export interface RuleEntry {
  rule: ReplicationRule;
  /** Where it is defined: the configuration file, or the API and the CLI (the store). */
  source: 'config' | 'api';
  /** For stored rules: who made it, when, and when it last changed. */
  createdBy: string | null;
  createdAt: number | null;
  updatedAt: number | null;
  /**
   * Why a stored rule cannot run (its password does not open: berth's sealing key changed, or the
   * row was changed): it is listed with this, never run, and can be replaced or deleted.
   */
  problem: string | null;
}

export interface RuleBookDeps {
  configured: readonly ReplicationRule[];
  store: ReplicationRuleStore;
  box: SecretBox;
  log: Logger;
  now?: () => number;
  max?: number;
}

/** Where a password is sent: the remote's origin, whether over plain HTTP, and as whom. */
interface Endpoint {
  url: string;
  username: string | undefined;
  insecure: boolean;
}

/**
 * The sealed password's additional data: it opens for this rule's remote password, at this
 * endpoint, only; a row changed to name another remote no longer opens.
 */
const passwordAad = (name: string, e: Endpoint): string => `replication-rule:${JSON.stringify([name, e.url, e.username ?? null, e.insecure])}:remote.password`;

/** The endpoint a body names (its URL as the schema keeps it: the origin), or undefined when it names none. */
function endpointOf(remote: unknown): Endpoint | undefined {
  if (!isObject(remote) || typeof remote.url !== 'string') return undefined;
  let url: string;
  try {
    url = new URL(remote.url).origin;
  } catch {
    return undefined;
  }
  return { url, username: typeof remote.username === 'string' ? remote.username : undefined, insecure: remote.insecure === true };
}

const sameEndpoint = (a: Endpoint | undefined, b: Endpoint | undefined): boolean =>
  a !== undefined && b !== undefined && a.url === b.url && a.username === b.username && a.insecure === b.insecure;

const configEntry = (rule: ReplicationRule): RuleEntry => ({ rule, source: 'config', createdBy: null, createdAt: null, updatedAt: null, problem: null });

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseRule(body: unknown): ReplicationRule {
  const parsed = replicationRuleSchema.safeParse(body);
  if (!parsed.success) throw new ReplicationRuleInvalidError(`invalid rule: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** The rule as stored: its definition without the password. */
function specOf(rule: ReplicationRule): string {
  const { password: _password, ...remote } = rule.remote;
  return JSON.stringify({ ...rule, remote });
}

export class RuleBook {
  private current: RuleEntry[];
  private readonly now: () => number;
  private readonly max: number;
  /** Stored rules already reported as unusable (one log line each, not one per reload). */
  private readonly reported = new Set<string>();

  constructor(private readonly deps: RuleBookDeps) {
    this.current = deps.configured.map(configEntry);
    this.now = deps.now ?? Date.now;
    this.max = deps.max ?? MAX_STORED_RULES;
  }

  /** The rules as last loaded: the config's, then the stored ones by name. */
  cached(): readonly RuleEntry[] {
    return this.current;
  }

  /** Read the stored rules again (opening their passwords). */
  async load(): Promise<readonly RuleEntry[]> {
    const configured = new Set(this.deps.configured.map((r) => r.name));
    const entries = this.deps.configured.map(configEntry);
    for (const stored of await this.deps.store.list()) {
      if (configured.has(stored.name)) {
        this.report(stored.name, 'a rule of the configuration file has its name: the stored rule is not used (delete it, or rename the configured one)');
        continue;
      }
      try {
        entries.push(await this.open(stored));
      } catch (err) {
        const problem = `it cannot be used: ${(err as Error).message}`;
        this.report(stored.name, problem);
        const shown = this.shell(stored, problem);
        if (shown !== undefined) entries.push(shown);
      }
    }
    this.current = entries;
    return entries;
  }

  private report(name: string, message: string): void {
    if (this.reported.has(`${name}\n${message}`)) return;
    this.reported.add(`${name}\n${message}`);
    this.deps.log.error({ rule: name }, `replication: ${message}`);
  }

  /** A stored rule whose password does not open, as it is shown (its definition without the password). */
  private shell(stored: StoredRule, problem: string): RuleEntry | undefined {
    try {
      const spec = JSON.parse(stored.spec) as Record<string, unknown>;
      const remote = isObject(spec.remote) ? spec.remote : {};
      // a stand-in so that the schema takes a user without a password; never sent (the rule never runs)
      const rule = parseRule({ ...spec, remote: { ...remote, ...(remote.username !== undefined && { password: '(sealed)' }) } });
      return { rule: { ...rule, remote: { ...rule.remote, password: undefined } }, source: 'api', createdBy: stored.createdBy, createdAt: stored.createdAt, updatedAt: stored.updatedAt, problem };
    } catch {
      return undefined;
    }
  }

  private async open(stored: StoredRule): Promise<RuleEntry> {
    const spec = JSON.parse(stored.spec) as Record<string, unknown>;
    const remote = isObject(spec.remote) ? spec.remote : {};
    const endpoint = endpointOf(remote);
    if (stored.sealedPassword !== null && endpoint === undefined) throw new Error('the stored rule names no remote');
    const password = stored.sealedPassword === null || endpoint === undefined ? undefined : await this.deps.box.open(passwordAad(stored.name, endpoint), stored.sealedPassword);
    const rule = parseRule({ ...spec, remote: { ...remote, ...(password !== undefined && { password }) } });
    return { rule, source: 'api', createdBy: stored.createdBy, createdAt: stored.createdAt, updatedAt: stored.updatedAt, problem: null };
  }

  /** The rule named, as now stored; ReplicationRuleUnknownError when there is none. */
  async find(name: string): Promise<RuleEntry> {
    const entry = (await this.load()).find((e) => e.rule.name === name);
    if (entry === undefined) throw new ReplicationRuleUnknownError(name);
    return entry;
  }

  /** Make a rule from `body` (a rule as the config holds it), by `actor`. */
  async create(body: unknown, actor: string): Promise<RuleEntry> {
    const rule = parseRule(body);
    if (this.deps.configured.some((r) => r.name === rule.name)) throw new ReplicationRuleExistsError(rule.name);
    const now = this.now();
    const sealedPassword = await this.seal(rule);
    const made = await this.deps.store.create({ name: rule.name, spec: specOf(rule), sealedPassword, createdBy: actor, createdAt: now, updatedAt: now }, this.max);
    if (made === 'exists') throw new ReplicationRuleExistsError(rule.name);
    if (made === 'full') throw new ReplicationRulesFullError(this.max);
    return this.find(rule.name);
  }

  private async seal(rule: ReplicationRule): Promise<string | null> {
    const { url, username, insecure, password } = rule.remote;
    return password === undefined ? null : this.deps.box.seal(passwordAad(rule.name, { url, username, insecure }), password);
  }

  /**
   * Replace rule `name`'s definition with `body`. Without remote.password, the stored one is kept
   * if the remote's origin, username and `insecure` are unchanged (it is sent nowhere else, and
   * never in clear where it went over TLS); otherwise the password must be given again.
   */
  async replace(name: string, body: unknown): Promise<RuleEntry> {
    if (this.deps.configured.some((r) => r.name === name)) throw new ReplicationRuleConfiguredError(name);
    const existing = await this.deps.store.get(name);
    if (existing === undefined) throw new ReplicationRuleUnknownError(name);
    if (!isObject(body)) throw new ReplicationRuleInvalidError('invalid rule: send the rule as a JSON object');
    if (body.name !== undefined && body.name !== name) throw new ReplicationRuleInvalidError("a rule's name does not change: delete it and make another");
    const next: Record<string, unknown> = { ...body, name };
    if (isObject(body.remote) && body.remote.password === undefined && body.remote.username !== undefined && existing.sealedPassword !== null) {
      const before = endpointOf((JSON.parse(existing.spec) as { remote?: unknown }).remote);
      if (before === undefined || !sameEndpoint(before, endpointOf(body.remote))) {
        throw new ReplicationRuleInvalidError("give remote.password again: the rule's remote URL, username or insecure changed");
      }
      const kept = await this.deps.box.open(passwordAad(name, before), existing.sealedPassword).catch((err: unknown) => {
        if (err instanceof SealedSecretError) throw new ReplicationRuleInvalidError('give remote.password again: the kept one does not open (berth\'s sealing key changed?)');
        throw err;
      });
      next.remote = { ...body.remote, password: kept };
    }
    const rule = parseRule(next);
    const sealedPassword = await this.seal(rule);
    if (!(await this.deps.store.replace({ name, spec: specOf(rule), sealedPassword, updatedAt: this.now() }))) throw new ReplicationRuleUnknownError(name);
    return this.find(name);
  }

  /** Delete rule `name` and its runs (a run still going stops at its next progress). */
  async delete(name: string): Promise<void> {
    if (this.deps.configured.some((r) => r.name === name)) throw new ReplicationRuleConfiguredError(name);
    if (!(await this.deps.store.delete(name))) throw new ReplicationRuleUnknownError(name);
    await this.load();
  }
}
