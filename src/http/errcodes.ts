/**
 * The one registry of error codes: each code declared once with its message and HTTP status
 * (after distribution's registry/api/errcode/register.go). Handlers never choose a status
 * themselves; http/errors.ts maps domain errors onto these codes.
 *
 * Two APIs answer with them. The registry API (/v2/) may only send the spec's codes: "The `code`
 * field MUST be one of" its table, for a 4XX answer with a JSON body; server errors (5XX) are
 * outside the table. berth's own API (/api/, /auth/token, /v1/) also has codes of its own
 * (NOT_FOUND, CONFLICT, REQUEST_INVALID...). ON_REGISTRY_API says how each of those is sent on
 * /v2/, and is typed over all of them, so a new code does not compile until it has its spec code.
 */

export interface ErrorCodeDescriptor {
  readonly code: string;
  readonly message: string;
  readonly status: number;
}

function declare<const C extends string>(code: C, message: string, status: number): ErrorCodeDescriptor & { code: C } {
  return Object.freeze({ code, message, status });
}

/** The codes of the OCI Distribution Spec 1.1 (table "Error Codes"), then the server errors, then berth's. */
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
  // Server errors (5XX), as distribution names them; the spec's table governs 4XX answers.
  UNKNOWN: declare('UNKNOWN', 'unknown error', 500),
  UNAVAILABLE: declare('UNAVAILABLE', 'service unavailable', 503),
  // berth's own codes, sent as they are outside /v2/ (ON_REGISTRY_API translates them there).
  TAG_INVALID: declare('TAG_INVALID', 'invalid tag or digest', 400),
  PAGINATION_NUMBER_INVALID: declare('PAGINATION_NUMBER_INVALID', 'invalid number of results requested', 400),
  RANGE_INVALID: declare('RANGE_INVALID', 'invalid content range', 416),
  METHOD_UNKNOWN: declare('METHOD_UNKNOWN', 'method not allowed on this resource', 405),
  NOT_FOUND: declare('NOT_FOUND', 'route not found', 404),
  SIZE_EXCEEDED: declare('SIZE_EXCEEDED', 'payload too large', 413),
  CONFLICT: declare('CONFLICT', 'the resource already exists', 409),
  REQUEST_INVALID: declare('REQUEST_INVALID', 'invalid request', 400),
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** The codes the OCI Distribution Spec 1.1 lists, in its order (checked against the registry by a test). */
export const OCI_SPEC_CODES = [
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
] as const satisfies readonly ErrorCode[];

export type SpecErrorCode = (typeof OCI_SPEC_CODES)[number];
/** Codes of server errors only (5XX), where the spec's table does not apply. */
export const SERVER_ERROR_CODES = ['UNKNOWN', 'UNAVAILABLE'] as const satisfies readonly ErrorCode[];
export type ServerErrorCode = (typeof SERVER_ERROR_CODES)[number];
/** Every code an answer on the registry API (/v2/) can carry. */
export type RegistryApiCode = SpecErrorCode | ServerErrorCode;

export interface RegistryApiAnswer {
  readonly code: SpecErrorCode;
  readonly status: number;
}

/**
 * How berth's own codes are sent on the registry API: as the spec code nearest in meaning, with
 * the status the spec (or HTTP) asks for. UNSUPPORTED is "a missing implementation or invalid set
 * of parameters" (the spec's detail.md of v1.0); 413 and 416 are the spec's own statuses for a
 * manifest over the limit and a chunk out of order.
 */
export const ON_REGISTRY_API: { readonly [C in Exclude<ErrorCode, RegistryApiCode>]: RegistryApiAnswer } = {
  // PUT of a manifest to a reference that is neither a tag nor a digest (GET, HEAD and DELETE answer MANIFEST_UNKNOWN).
  TAG_INVALID: { code: 'MANIFEST_INVALID', status: 400 },
  // `n` of a tag list or the catalog that is not a number.
  PAGINATION_NUMBER_INVALID: { code: 'UNSUPPORTED', status: 400 },
  // A chunk out of order or with a malformed Content-Range, or a Range past the end of a blob.
  RANGE_INVALID: { code: 'SIZE_INVALID', status: 416 },
  METHOD_UNKNOWN: { code: 'UNSUPPORTED', status: 405 },
  // A /v2/ path no route matches.
  NOT_FOUND: { code: 'UNSUPPORTED', status: 404 },
  // The one body /v2/ reads whole under a limit is a manifest's (blobs stream): MANIFEST_INVALID as distribution, 413 as the spec.
  SIZE_EXCEEDED: { code: 'MANIFEST_INVALID', status: 413 },
  // Account errors; no /v2/ route raises them today.
  CONFLICT: { code: 'UNSUPPORTED', status: 409 },
  REQUEST_INVALID: { code: 'UNSUPPORTED', status: 400 },
};

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
