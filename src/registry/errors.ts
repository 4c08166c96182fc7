/**
 * Errors of the registry domain. They carry a stable `code` and what went wrong, never an
 * HTTP status: http/errors.ts is the one place that maps them onto the OCI error registry.
 */

export abstract class RegistryError extends Error {
  abstract readonly code: string;
  /** Structured detail for the client (digest, name, ...). */
  readonly detail: Record<string, unknown> | undefined;
  constructor(message: string, detail?: Record<string, unknown>) {
    super(message);
    this.detail = detail;
  }
}

export class NameInvalidError extends RegistryError {
  readonly code = 'BERTH_NAME_INVALID';
  constructor(name: string, reason = 'invalid repository name') {
    super(reason, { name });
  }
}

export class NameUnknownError extends RegistryError {
  readonly code = 'BERTH_NAME_UNKNOWN';
  constructor(name: string) {
    super('repository name not known to registry', { name });
  }
}

export class ReferenceInvalidError extends RegistryError {
  readonly code = 'BERTH_REFERENCE_INVALID';
  constructor(reference: string) {
    super('invalid tag or digest', { reference });
  }
}

export class DigestInvalidError extends RegistryError {
  readonly code = 'BERTH_DIGEST_INVALID';
  constructor(reason: string, detail?: Record<string, unknown>) {
    super(reason, detail);
  }
}

export class BlobUnknownError extends RegistryError {
  readonly code = 'BERTH_BLOB_UNKNOWN';
  constructor(digest: string) {
    super('blob unknown to registry', { digest });
  }
}

export class UploadUnknownError extends RegistryError {
  readonly code = 'BERTH_UPLOAD_UNKNOWN';
  constructor(id: string) {
    super('blob upload unknown to registry', { uuid: id });
  }
}

export class UploadInvalidError extends RegistryError {
  readonly code = 'BERTH_UPLOAD_INVALID';
}

/** A chunk that does not start where the upload ends (out of order or repeated). */
export class UploadRangeError extends RegistryError {
  readonly code = 'BERTH_UPLOAD_RANGE';
  constructor(
    readonly currentSize: number,
    reason: string,
  ) {
    super(reason, { size: currentSize });
  }
}

export class SizeInvalidError extends RegistryError {
  readonly code = 'BERTH_SIZE_INVALID';
}

export class ManifestInvalidError extends RegistryError {
  readonly code = 'BERTH_MANIFEST_INVALID';
}

export class ManifestTooLargeError extends RegistryError {
  readonly code = 'BERTH_MANIFEST_TOO_LARGE';
  constructor(limit: number) {
    super(`manifest exceeds the ${limit} byte limit`, { limit });
  }
}

export class ManifestUnknownError extends RegistryError {
  readonly code = 'BERTH_MANIFEST_UNKNOWN';
  constructor(reference: string) {
    super('manifest unknown to registry', { reference });
  }
}

/** A manifest names a blob or child manifest that the repository does not hold. */
export class ManifestBlobUnknownError extends RegistryError {
  readonly code = 'BERTH_MANIFEST_BLOB_UNKNOWN';
  constructor(digest: string, kind: 'blob' | 'manifest') {
    super(`manifest references a ${kind} unknown to the repository`, { digest });
  }
}

export class PaginationInvalidError extends RegistryError {
  readonly code = 'BERTH_PAGINATION_INVALID';
}

/** A push would move, or a delete remove, a tag an immutability rule holds (registry/immutable.ts). */
export class TagImmutableError extends RegistryError {
  readonly code = 'BERTH_TAG_IMMUTABLE';
}

/**
 * A delete would take content out from under a manifest of the same repository: a blob that a
 * manifest references (or that is a manifest's own bytes), or a manifest that an index lists as
 * a child. Whatever the rules: the referencing manifest goes first (detail names it).
 */
export class ContentReferencedError extends RegistryError {
  readonly code = 'BERTH_CONTENT_REFERENCED';
  constructor(digest: string, kind: 'blob' | 'manifest', by: string) {
    super(referencedMessage(digest, kind, by), { digest, ...(kind === 'blob' ? { manifest: by } : { index: by }) });
  }
}

function referencedMessage(digest: string, kind: 'blob' | 'manifest', by: string): string {
  if (kind === 'manifest') {
    return `manifest ${digest} is a child of index ${by} in this repository: delete the index first (berth keeps an index's children while it exists)`;
  }
  if (by === digest) return `blob ${digest} is the manifest ${by} of this repository: delete the manifest first`;
  return `blob ${digest} is referenced by manifest ${by} of this repository: delete the manifest first`;
}

/** A push would take a namespace past its quota (registry/quota.ts); detail holds used and limit in bytes. */
export class QuotaExceededError extends RegistryError {
  readonly code = 'BERTH_QUOTA_EXCEEDED';
}

/** The operation is switched off by configuration (deletes disabled, read-only mode). */
export class UnsupportedError extends RegistryError {
  readonly code = 'BERTH_UNSUPPORTED';
}

/**
 * A mirror's upstream cannot answer: unreachable, timed out, rate-limiting (429) or failing (5xx).
 * `reason` says which, for the client and the log.
 */
export class UpstreamUnavailableError extends RegistryError {
  readonly code = 'BERTH_UPSTREAM_UNAVAILABLE';
  constructor(
    readonly upstream: string,
    readonly reason: string,
  ) {
    super(`upstream ${upstream} unavailable: ${reason}`, { upstream, reason });
  }
}
