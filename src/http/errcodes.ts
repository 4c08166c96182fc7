/**
 * The one registry of OCI / Docker registry error codes: each code declared once with its
 * message and HTTP status (after distribution's registry/api/errcode/register.go). Handlers
 * never choose a status themselves; http/errors.ts maps domain errors onto these codes.
 */

export interface ErrorCodeDescriptor {
  readonly code: string;
  readonly message: string;
  readonly status: number;
}

function declare<const C extends string>(code: C, message: string, status: number): ErrorCodeDescriptor & { code: C } {
  return Object.freeze({ code, message, status });
}

/** The codes of the OCI Distribution Spec 1.1 (table "Error Codes"), then Docker's and berth's. */
export const ErrorCodes = {
  BLOB_UNKNOWN: declare('BLOB_UNKNOWN', 'blob unknown to registry', 404),
  BLOB_UPLOAD_INVALID: declare('BLOB_UPLOAD_INVALID', 'blob upload invalid', 400),
  BLOB_UPLOAD_UNKNOWN: declare('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', 404),
  DIGEST_INVALID: declare('DIGEST_INVALID', 'provided digest did not match uploaded content', 400),
  MANIFEST_BLOB_UNKNOWN: declare('MANIFEST_BLOB_UNKNOWN', 'manifest references a manifest or blob unknown to registry', 400),
  MANIFEST_INVALID: declare('MANIFEST_INVALID', 'manifest invalid', 400),
  MANIFEST_UNKNOWN: declare('MANIFEST_UNKNOWN', 'manifest unknown to registry', 404),
  NAME_INVALID: declare('NAME_INVALID', 'invalid repository name', 400),
  NAME_UNKNOWN: declare('NAME_UNKNOWN', 'repository name not known to registry', 404),
  SIZE_INVALID: declare('SIZE_INVALID', 'provided length did not match content length', 400),
  UNAUTHORIZED: declare('UNAUTHORIZED', 'authentication required', 401),
  DENIED: declare('DENIED', 'requested access to the resource is denied', 403),
  UNSUPPORTED: declare('UNSUPPORTED', 'the operation is unsupported', 405),
  TOOMANYREQUESTS: declare('TOOMANYREQUESTS', 'too many requests', 429),
  // Docker registry v2 codes beyond the OCI table.
  MANIFEST_UNVERIFIED: declare('MANIFEST_UNVERIFIED', 'manifest failed signature verification', 400),
  TAG_INVALID: declare('TAG_INVALID', 'manifest tag did not match URI', 400),
  PAGINATION_NUMBER_INVALID: declare('PAGINATION_NUMBER_INVALID', 'invalid number of results requested', 400),
  RANGE_INVALID: declare('RANGE_INVALID', 'invalid content range', 416),
  UNAVAILABLE: declare('UNAVAILABLE', 'service unavailable', 503),
  // Protocol-level codes.
  METHOD_UNKNOWN: declare('METHOD_UNKNOWN', 'method not allowed on this resource', 405),
  NOT_FOUND: declare('NOT_FOUND', 'route not found', 404),
  SIZE_EXCEEDED: declare('SIZE_EXCEEDED', 'payload too large', 413),
  // berth's management API (/api/v1).
  CONFLICT: declare('CONFLICT', 'the resource already exists', 409),
  REQUEST_INVALID: declare('REQUEST_INVALID', 'invalid request', 400),
  UNKNOWN: declare('UNKNOWN', 'unknown error', 500),
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** The codes the OCI Distribution Spec 1.1 lists, in its order (checked against the registry by a test). */
export const OCI_SPEC_CODES: readonly ErrorCode[] = [
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
  'TOOMANYREQUESTS',
];

export interface ErrorBody {
  errors: { code: string; message: string; detail?: unknown }[];
}

/** The one serializer for the error envelope. */
export function errorBody(code: ErrorCode, message?: string, detail?: unknown): ErrorBody {
  const d = ErrorCodes[code];
  const entry: ErrorBody['errors'][number] = { code: d.code, message: message ?? d.message };
  if (detail !== undefined) entry.detail = detail;
  return { errors: [entry] };
}
