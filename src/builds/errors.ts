/**
 * The builds domain's errors, with stable codes; http/errors.ts maps them (by code) to the API's
 * error codes and statuses, as it does the registry's.
 */
export class BuildError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A rule that cannot work: a bad source, tag, path, URL or argument (400). */
export class BuildRuleError extends BuildError {
  constructor(message: string) {
    super('BERTH_BUILD_RULE_INVALID', message);
  }
}

/** No such rule or build in that repository (404). */
export class BuildNotFoundError extends BuildError {
  constructor(message: string) {
    super('BERTH_BUILD_UNKNOWN', message);
  }
}

/** Automated builds are off (builds.enabled: false): their API answers 404. */
export class BuildsDisabledError extends BuildError {
  constructor() {
    super('BERTH_BUILDS_DISABLED', 'automated builds are off on this registry (builds.enabled)');
  }
}

/** A webhook delivery refused: a missing or wrong signature (401), or not a delivery berth reads (400). */
export class HookRejectedError extends BuildError {
  constructor(
    message: string,
    readonly reason: 'unauthorized' | 'invalid',
  ) {
    super(reason === 'unauthorized' ? 'BERTH_HOOK_UNAUTHORIZED' : 'BERTH_HOOK_INVALID', message);
  }
}

/** A rule has as many builds queued as it may (429): a flood of deliveries queues no more. */
export class BuildQueueFullError extends BuildError {
  constructor(message: string) {
    super('BERTH_BUILD_QUEUE_FULL', message);
  }
}
