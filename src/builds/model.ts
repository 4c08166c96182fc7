/**
 * Automated builds: the records (rules and builds) and the store that keeps them beside the
 * registry's metadata (SQLite or PostgreSQL, meta/sqlite/build-store.ts and meta/postgres/build-store.ts,
 * one suite for both: store-conformance.ts). A rule says which Git references of a remote are
 * built into which tag of a repository; a build is one run of a rule for one reference, queued,
 * claimed by one node, and finished. The store keeps secrets only sealed (secrets/secret-box.ts).
 */

export const BUILD_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type BuildStatus = (typeof BUILD_STATUSES)[number];
/** Finished builds: their status no longer changes. */
export const FINAL_STATUSES: ReadonlySet<BuildStatus> = new Set(['succeeded', 'failed', 'cancelled']);

/** What started a build. */
export const BUILD_TRIGGERS = ['hook', 'poll', 'manual'] as const;
export type BuildTrigger = (typeof BUILD_TRIGGERS)[number];

export type SourceType = 'branch' | 'tag';
export type CredentialKind = 'token' | 'ssh';

/** A rule as shown: no secret in it. */
export interface BuildRule {
  /** Random, also the webhook's id: /api/v1/repositories/{name}/builds/hook/{id}. */
  id: string;
  repository: string;
  gitUrl: string;
  sourceType: SourceType;
  /** A branch or tag name, or a regular expression written /like this/. */
  source: string;
  /** The tag pushed: may hold {sourceref} and the regular expression's groups {1}, {2}... */
  tag: string;
  /** The Dockerfile's path, relative to the context. */
  dockerfile: string;
  /** The build context's path in the Git repository ('.' for its root). */
  context: string;
  buildArgs: Record<string, string>;
  /** Ask the remote for new commits every builds.pollinterval (for remotes that send no webhook). */
  poll: boolean;
  /** How berth authenticates to the remote, or null for none (the secret itself is never shown). */
  credential: CredentialKind | null;
  /** Who set the rule up last: builds push and pull with this user's rights (a build's own token). */
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A rule with its sealed secrets, as stored. */
export interface StoredBuildRule extends BuildRule {
  /** The webhook's secret (HMAC key, or the token GitLab sends), sealed. */
  sealedHookSecret: string;
  /** The token or SSH key, sealed; null when `credential` is null. */
  sealedCredential: string | null;
}

export interface Build {
  id: number;
  repository: string;
  ruleId: string;
  /** The branch or tag name built. */
  ref: string;
  /** The commit built; null until the build has fetched the reference (or when a hook named none). */
  commit: string | null;
  /** The tag pushed. */
  tag: string;
  status: BuildStatus;
  /** The manifest digest pushed, once succeeded. */
  digest: string | null;
  trigger: BuildTrigger;
  requestedBy: string | null;
  /** Why it failed or was cancelled. */
  error: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export type NewBuild = Pick<Build, 'repository' | 'ruleId' | 'ref' | 'commit' | 'tag' | 'trigger' | 'requestedBy'>;

/** A running build's lease, renewed: whether someone asked to cancel it. */
export interface Renewal {
  /** False when the build is no longer this holder's (the lease ran out and another node took it). */
  held: boolean;
  cancelRequested: boolean;
}

export interface LogChunk {
  seq: number;
  text: string;
}

export interface BuildStore {
  /** Create or replace a rule (by id). */
  putRule(rule: StoredBuildRule): Promise<void>;
  getRule(id: string): Promise<StoredBuildRule | undefined>;
  /** The repository's rules, oldest first. */
  listRules(repository: string): Promise<StoredBuildRule[]>;
  /** Rules that poll their remote, over every repository. */
  pollingRules(): Promise<StoredBuildRule[]>;
  /** Whether it was there. Its builds stay, as history. */
  deleteRule(id: string): Promise<boolean>;
  /** The commit each reference of the rule had when last looked at (polling), by reference name. */
  seenCommits(ruleId: string): Promise<Record<string, string>>;
  setSeenCommits(ruleId: string, seen: Record<string, string>): Promise<void>;

  /**
   * Queue a build (durably). When one of the same rule and reference is queued already, that one
   * is pointed at this commit and tag and returned instead: a delivery sent again (or replayed)
   * queues nothing more, and a reference that moved twice before its build started builds once,
   * at the newest commit. A webhook's or a poll's commit that the reference's newest build runs or
   * built already queues nothing either (that build is returned). Throws BuildQueueFullError when
   * the rule has `maxQueued` builds queued.
   */
  enqueue(build: NewBuild, now: number, maxQueued: number): Promise<Build>;
  /**
   * Take the oldest queued build for `holder` until `leaseUntil`, marking it running; a running
   * build whose holder's lease ran out (its node stopped) is queued again first, once, then failed.
   */
  claim(holder: string, now: number, leaseUntil: number): Promise<Build | undefined>;
  /** Extend the holder's lease on a running build. */
  renew(id: number, holder: string, leaseUntil: number): Promise<Renewal>;
  /** Record the commit a running build resolved its reference to. */
  setCommit(id: number, commit: string): Promise<void>;
  /** End a running build of `holder`; false when it was not (any more) the holder's. */
  finish(id: number, holder: string, end: { status: 'succeeded' | 'failed' | 'cancelled'; digest?: string; error?: string }, now: number): Promise<boolean>;
  /** Cancel a queued build at once, or ask the running one's holder to stop it. Returns the build after, undefined when unknown. */
  requestCancel(repository: string, id: number, now: number): Promise<Build | undefined>;
  get(repository: string, id: number): Promise<Build | undefined>;
  /** Newest first; `before`: only builds with a smaller id. */
  list(repository: string, opts?: { limit?: number; before?: number }): Promise<Build[]>;

  /** Append a chunk to a build's log (seq: 0, 1, 2... per build). */
  appendLog(id: number, seq: number, text: string): Promise<void>;
  /** The log's chunks from `fromSeq` on, in order. */
  readLog(id: number, fromSeq?: number): Promise<LogChunk[]>;
}
