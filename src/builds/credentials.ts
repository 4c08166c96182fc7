/**
 * What a build pushes with when access control is on: a personal access token of the rule's
 * owner, made for this build alone, scoped to pull and push the rule's repository, expiring with the build's timeout, revoked when the build
 * ends. The builder gets it in a 0600 auth file (buildah.ts); it is never logged or shown.
 * Besides its own repository it may pull the base images its Dockerfile names (dockerfile.ts) that
 * anyone may pull: whoever can push to the Git repository writes the FROM lines, and must not be
 * able to copy the owner's private images into a repository others may read. A private base image
 * is not pulled (the build fails with buildah's message): keep it in the build's own repository.
 */
import type { AccessPolicy } from '../auth/policy.ts';
import { ANONYMOUS } from '../auth/principal.ts';
import type { AccountStore } from '../auth/store.ts';
import { hashSecret, newSecret, newTokenId, PAT_PREFIX } from '../auth/token-secrets.ts';

export interface PushCredential {
  username: string;
  password: string;
  revoke(): Promise<void>;
}

export interface PushCredentials {
  /** Undefined when access control is off (no credentials needed). Throws when the owner cannot push. */
  mint(repository: string, owner: string | null, build: { id: number; pulls: readonly string[] }, expiresAt: number): Promise<PushCredential | undefined>;
}

/** Access control off: anyone may push, the builder needs nothing. */
export const NO_CREDENTIALS: PushCredentials = { mint: async () => undefined };

export class BuildOwnerError extends Error {
  readonly code = 'BERTH_BUILD_OWNER';
}

export class TokenPushCredentials implements PushCredentials {
  constructor(
    private readonly store: AccountStore,
    private readonly policy: AccessPolicy,
    private readonly enabled: () => Promise<boolean>,
  ) {}

  async mint(repository: string, owner: string | null, build: { id: number; pulls: readonly string[] }, expiresAt: number): Promise<PushCredential | undefined> {
    if (!(await this.enabled())) return undefined;
    const user = owner === null ? undefined : await this.store.getUser(owner);
    if (owner === null || user === undefined) {
      throw new BuildOwnerError(`the rule's owner ${owner === null ? '(none: it was made while access control was off)' : JSON.stringify(owner)} is not a user of this registry: make the rule again as a user who may push to ${repository}`);
    }
    // The owner may have lost the right since the rule was made: no token for what they cannot do.
    const rights = await this.policy.repositoryActions({ kind: 'user', name: user.name, admin: user.admin, via: 'token' }, repository);
    if (!rights.has('push')) throw new BuildOwnerError(`the rule's owner ${owner} may no longer push to ${repository}: make the rule again as a user who may`);
    const pulls: string[] = [];
    for (const base of build.pulls) {
      if (base !== repository && (await this.policy.repositoryActions(ANONYMOUS, base)).has('pull')) pulls.push(base);
    }
    const secret = newSecret(PAT_PREFIX);
    const id = newTokenId();
    await this.store.createToken({
      id,
      user: owner,
      kind: 'pat',
      name: `build ${build.id} of ${repository}`.slice(0, 100),
      secretHash: hashSecret(secret),
      scopes: [`repository:${repository}:pull,push`, ...pulls.map((p) => `repository:${p}:pull`)],
      expiresAt,
    });
    return { username: owner, password: secret, revoke: async () => void (await this.store.revokeToken(id)) };
  }
}
