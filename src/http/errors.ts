/**
 * The one mapper from errors to HTTP: domain errors (src/registry/errors.ts), protocol errors
 * (HttpError) and a storage range error become the registry's OCI error codes; anything else
 * (a missing file the meta store promised, a disk error) is a 500 UNKNOWN, logged with the
 * request id. Handlers never pick a status for an error. On the registry API (/v2/) the result
 * carries a code of the spec's table (or a server error's): berth's own codes are translated by
 * ON_REGISTRY_API (http/errcodes.ts), and mapError's type says so.
 */
import type { ServerResponse } from 'node:http';
import { RegistryError } from '../registry/errors.ts';
import { AuthError, LoginThrottledError } from '../auth/errors.ts';
import { BuildError } from '../builds/errors.ts';
import { ReplicationError } from '../replication/errors.ts';
import { InvalidOffsetError } from '../storage/driver.ts';
import {
  ErrorCodes,
  ON_REGISTRY_API,
  OCI_SPEC_CODES,
  SERVER_ERROR_CODES,
  errorBody,
  type ErrorCode,
  type RegistryApiCode,
} from './errcodes.ts';

/** A protocol-level error raised by the HTTP layer itself (bad header, unsupported method). */
export class HttpError extends Error {
  readonly code = 'BERTH_HTTP';
  constructor(
    readonly errorCode: ErrorCode,
    message?: string,
    readonly detail?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message ?? ErrorCodes[errorCode].message);
  }
}

const DOMAIN_CODES: Record<string, ErrorCode> = {
  BERTH_NAME_INVALID: 'NAME_INVALID',
  BERTH_NAME_UNKNOWN: 'NAME_UNKNOWN',
  BERTH_REFERENCE_INVALID: 'TAG_INVALID',
  BERTH_DIGEST_INVALID: 'DIGEST_INVALID',
  BERTH_BLOB_UNKNOWN: 'BLOB_UNKNOWN',
  BERTH_UPLOAD_UNKNOWN: 'BLOB_UPLOAD_UNKNOWN',
  BERTH_UPLOAD_INVALID: 'BLOB_UPLOAD_INVALID',
  BERTH_UPLOAD_RANGE: 'RANGE_INVALID',
  BERTH_SIZE_INVALID: 'SIZE_INVALID',
  BERTH_MANIFEST_INVALID: 'MANIFEST_INVALID',
  BERTH_MANIFEST_TOO_LARGE: 'SIZE_EXCEEDED',
  BERTH_MANIFEST_UNKNOWN: 'MANIFEST_UNKNOWN',
  BERTH_MANIFEST_BLOB_UNKNOWN: 'MANIFEST_BLOB_UNKNOWN',
  BERTH_PAGINATION_INVALID: 'PAGINATION_NUMBER_INVALID',
  BERTH_UNSUPPORTED: 'UNSUPPORTED',
  BERTH_TAG_IMMUTABLE: 'DENIED',
  BERTH_QUOTA_EXCEEDED: 'DENIED',
  BERTH_CONTENT_REFERENCED: 'DENIED',
  BERTH_AUTHENTICATION_FAILED: 'UNAUTHORIZED',
  BERTH_ACCESS_DENIED: 'DENIED',
  BERTH_ACCOUNT_UNKNOWN: 'NOT_FOUND',
  BERTH_ACCOUNT_CONFLICT: 'CONFLICT',
  BERTH_ACCOUNT_INVALID: 'REQUEST_INVALID',
  BERTH_LOGIN_THROTTLED: 'TOOMANYREQUESTS',
  BERTH_UPSTREAM_UNAVAILABLE: 'UNAVAILABLE',
  BERTH_BUILD_RULE_INVALID: 'REQUEST_INVALID',
  BERTH_BUILD_UNKNOWN: 'NOT_FOUND',
  BERTH_BUILDS_DISABLED: 'NOT_FOUND',
  BERTH_HOOK_UNAUTHORIZED: 'UNAUTHORIZED',
  BERTH_HOOK_INVALID: 'REQUEST_INVALID',
  BERTH_BUILD_QUEUE_FULL: 'TOOMANYREQUESTS',
  BERTH_REPLICATION_UNKNOWN: 'NOT_FOUND',
  BERTH_REPLICATION_BUSY: 'CONFLICT',
  BERTH_REPLICATION_EXISTS: 'CONFLICT',
  BERTH_REPLICATION_CONFIGURED: 'CONFLICT',
  BERTH_REPLICATION_INVALID: 'REQUEST_INVALID',
  BERTH_REPLICATION_FULL: 'CONFLICT',
  BERTH_REPLICATION_UNUSABLE: 'CONFLICT',
};

export interface MappedError<C extends ErrorCode = ErrorCode> {
  code: C;
  status: number;
  message: string;
  detail?: Record<string, unknown>;
  headers?: Record<string, string>;
  /** True for errors that are the server's fault (logged at error level). */
  internal: boolean;
}

/** The registry API (/v2 and below) or berth's own (/api/, /auth/token, /v1/, the web UI). */
export type Api = 'registry' | 'berth';

/** Which API a request's URL (with http.prefix, if any) is for. */
export function apiOf(url: string | undefined, prefix: string): Api {
  const full = url ?? '/';
  const q = full.indexOf('?');
  const path = q === -1 ? full : full.slice(0, q);
  if (!path.startsWith(`${prefix}/`)) return 'berth';
  const rest = path.slice(prefix.length);
  return rest === '/v2' || rest.startsWith('/v2/') ? 'registry' : 'berth';
}

const REGISTRY_API_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([...OCI_SPEC_CODES, ...SERVER_ERROR_CODES]);

function isRegistryApiCode(code: ErrorCode): code is RegistryApiCode {
  return REGISTRY_API_CODES.has(code);
}

/** An error as the registry API sends it: berth's own codes become the spec's (ON_REGISTRY_API). */
export function onRegistryApi(mapped: MappedError): MappedError<RegistryApiCode> {
  const { code } = mapped;
  if (isRegistryApiCode(code)) return { ...mapped, code };
  return { ...mapped, ...ON_REGISTRY_API[code] };
}

/** The error envelope's code, status and headers for an error raised while answering `api`. */
export function mapError(err: unknown, api: 'registry'): MappedError<RegistryApiCode>;
export function mapError(err: unknown, api: Api): MappedError;
export function mapError(err: unknown, api: Api): MappedError {
  const mapped = mapToCode(err);
  return api === 'registry' ? onRegistryApi(mapped) : mapped;
}

function mapToCode(err: unknown): MappedError {
  if (err instanceof HttpError) {
    const d = ErrorCodes[err.errorCode];
    return { code: err.errorCode, status: d.status, message: err.message, detail: err.detail, headers: err.headers, internal: false };
  }
  if (err instanceof InvalidOffsetError) {
    // A range past the end of the stored bytes (their size disagrees with the record): not the client's fault to fix, but a range error.
    return { code: 'RANGE_INVALID', status: ErrorCodes.RANGE_INVALID.status, message: 'requested range not satisfiable', internal: false };
  }
  if (err instanceof RegistryError || err instanceof AuthError || err instanceof BuildError || err instanceof ReplicationError) {
    const code = DOMAIN_CODES[err.code];
    if (code !== undefined) {
      const headers = err instanceof LoginThrottledError ? { 'Retry-After': String(err.retryAfterSec) } : undefined;
      const detail = err instanceof BuildError || err instanceof ReplicationError ? undefined : err.detail;
      return { code, status: ErrorCodes[code].status, message: err.message, detail, headers, internal: false };
    }
  }
  const errno = (err as { code?: unknown } | null)?.code;
  if (errno === 'ENOSPC' || errno === 'EDQUOT') {
    // The registry's own condition, logged as such; the client learns why its push failed.
    return { code: 'UNKNOWN', status: 507, message: 'the registry has no storage space left: the upload was not stored', internal: true };
  }
  return { code: 'UNKNOWN', status: 500, message: ErrorCodes.UNKNOWN.message, internal: true };
}

/** Write the error envelope (headers permitting: a response already streaming is destroyed instead). */
export function sendError(res: ServerResponse, mapped: MappedError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(mapped.code, mapped.message, mapped.detail));
  res.statusCode = mapped.status;
  if (mapped.headers) for (const [k, v] of Object.entries(mapped.headers)) res.setHeader(k, v);
  // The web UI asks for plain 401s: a WWW-Authenticate header would make the browser open its own password dialog.
  if (res.req?.headers['x-berth-ui'] !== undefined) res.removeHeader('WWW-Authenticate');
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
