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
