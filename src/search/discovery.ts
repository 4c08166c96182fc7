/** Discovery, assembled for the HTTP layer: the index, the pull counter, and who may see what. */
import type { Principal } from '../auth/principal.ts';
import type { AccessPolicy } from '../auth/policy.ts';
import { SEE_EVERYTHING, type AccessFilter, type SearchIndex } from './model.ts';
import type { PullCounter } from './pulls.ts';

export interface DiscoveryOptions {
  index: SearchIndex;
  pulls: PullCounter;
  /** Whether a repository without settings is public (access.defaultvisibility). */
  defaultPublic: boolean;
}

export class Discovery {
  readonly index: SearchIndex;
  readonly pulls: PullCounter;
  readonly defaultPublic: boolean;

  constructor(opts: DiscoveryOptions) {
    this.index = opts.index;
    this.pulls = opts.pulls;
    this.defaultPublic = opts.defaultPublic;
  }

  /** What the principal may see; `policy` undefined (no access control, or it is off): everything. */
  async filterFor(principal: Principal, policy: AccessPolicy | undefined): Promise<AccessFilter> {
    return policy === undefined ? SEE_EVERYTHING : policy.visibleTo(principal);
  }

  async close(): Promise<void> {
    await this.pulls.close();
  }
}
