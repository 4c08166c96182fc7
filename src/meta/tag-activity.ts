/**
 * What retention (src/retention) reads of a repository's tags and manifests, and the time each tag
 * was last pulled. Pulls are recorded in batches (search/pulls.ts gathers them in memory), never a
 * write per pull: a pull by tag stamps that tag, a pull by digest every tag pointing at the digest.
 * Implementations: sqlite/tag-activity.ts, postgres/tag-activity.ts; one suite, tag-activity-conformance.ts.
 */

/** A manifest GET served: `reference` is a tag or a digest (a tag never holds ':'). */
export interface TagPull {
  repository: string;
  reference: string;
  /** When it was served (ms since epoch). */
  at: number;
}

export interface TagActivity {
  tag: string;
  digest: string;
  /** When the tag was last pushed (moved or re-pushed), ms since epoch. */
  pushedAt: number;
  /** When it was last pulled, by tag or by digest; null when never since it was recorded. */
  pulledAt: number | null;
}

export interface UntaggedManifest {
  digest: string;
  mediaType: string;
  size: number;
  /** When the manifest was pushed (ms since epoch). */
  createdAt: number;
  /** Since when it has had no tag: when it lost its last one, or its push (whichever is later; ms since epoch). */
  untaggedAt: number;
}

export interface TagActivityStore {
  /** Stamp the tags the pulls name with their time (a later stamp is never replaced by an earlier one). */
  recordPulls(pulls: readonly TagPull[]): Promise<void>;
  /** Every tag of the repository with its manifest and times, in name order; [] when it has none. */
  tagActivity(repo: string): Promise<TagActivity[]>;
  /**
   * Manifests of the repository that no tag points at, untagged since before `untaggedBefore`
   * (see UntaggedManifest.untaggedAt), that are neither a child of one of its indexes nor a
   * referrer whose subject it still holds (those go with what refers to them), longest untagged first.
   */
  untaggedManifests(repo: string, untaggedBefore: number): Promise<UntaggedManifest[]>;
  /** Forget when deleted manifests lost their tags (the records outlive them); how many were forgotten. */
  pruneUntagged(): Promise<number>;
}

/** Whether a reference names a digest (else a tag). */
export function isDigestReference(reference: string): boolean {
  return reference.includes(':');
}
