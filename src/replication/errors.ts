/** The replication domain's errors, with stable codes; http/errors.ts maps them by code. */
export class ReplicationError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** No rule of that name in the configuration (404). */
export class ReplicationRuleUnknownError extends ReplicationError {
  constructor(name: string) {
    super('BERTH_REPLICATION_UNKNOWN', `no replication rule ${JSON.stringify(name.slice(0, 100))}`);
  }
}

/** The rule runs already (on this node or another): one run at a time (409). */
export class ReplicationBusyError extends ReplicationError {
  constructor(name: string) {
    super('BERTH_REPLICATION_BUSY', `replication rule ${name} is running already: see its runs`);
  }
}

/** A rule of that name exists already (409). */
export class ReplicationRuleExistsError extends ReplicationError {
  constructor(name: string) {
    super('BERTH_REPLICATION_EXISTS', `a replication rule named ${name} exists already`);
  }
}

/** A rule of the configuration file: changed there, not through the API or the CLI (409). */
export class ReplicationRuleConfiguredError extends ReplicationError {
  constructor(name: string) {
    super('BERTH_REPLICATION_CONFIGURED', `replication rule ${name} is defined in the configuration file (replication.rules): change it there`);
  }
}

/** A rule that cannot be made as given (400): the message says why. */
export class ReplicationRuleInvalidError extends ReplicationError {
  constructor(message: string) {
    super('BERTH_REPLICATION_INVALID', message);
  }
}

/** As many rules as may be made (409). */
export class ReplicationRulesFullError extends ReplicationError {
  constructor(max: number) {
    super('BERTH_REPLICATION_FULL', `at most ${max} replication rules can be made through the API and the CLI: delete one first`);
  }
}

/** A stored rule that cannot run (its password does not open): replace it, or delete it (409). */
export class ReplicationRuleUnusableError extends ReplicationError {
  constructor(name: string, problem: string) {
    super('BERTH_REPLICATION_UNUSABLE', `replication rule ${name} ${problem}: give its password again (PUT), or delete it`);
  }
}
