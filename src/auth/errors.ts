/**
 * Errors of accounts and access control. Like the registry's, they carry a stable code and no
 * HTTP status: http/errors.ts maps them.
 */

export abstract class AuthError extends Error {
  abstract readonly code: string;
  readonly detail: Record<string, unknown> | undefined;
  constructor(message: string, detail?: Record<string, unknown>) {
    super(message);
    this.detail = detail;
  }
}

/** No or wrong credentials, or a token that is tampered with, expired, or for another service. */
export class AuthenticationError extends AuthError {
  readonly code = 'BERTH_AUTHENTICATION_FAILED';
}

/** Too many failed logins of this user from this address (or from this address): try again later. */
export class LoginThrottledError extends AuthError {
  readonly code = 'BERTH_LOGIN_THROTTLED';
  constructor(readonly retryAfterSec: number) {
    super(`too many failed logins: try again in ${retryAfterSec} s`, { retryAfter: retryAfterSec });
  }
}

/** Authenticated, but not allowed to do this. */
export class AccessDeniedError extends AuthError {
  readonly code = 'BERTH_ACCESS_DENIED';
}

/** A user, organisation, team or token that does not exist (or that the caller may not see). */
export class AccountUnknownError extends AuthError {
  readonly code = 'BERTH_ACCOUNT_UNKNOWN';
}

/** The name is taken. */
export class AccountConflictError extends AuthError {
  readonly code = 'BERTH_ACCOUNT_CONFLICT';
}

/** A malformed request: bad name, bad scope, bad expiry, weak password. */
export class AccountInvalidError extends AuthError {
  readonly code = 'BERTH_ACCOUNT_INVALID';
}
