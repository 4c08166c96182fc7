/**
 * Repository names, tags and digests, validated with the grammar of the OCI Distribution Spec
 * (and distribution's reference package): names are path components of lowercase alphanumerics
 * joined by separators, tags are up to 128 characters, digests are `algorithm:encoded`.
 */
import { NameInvalidError, ReferenceInvalidError, DigestInvalidError } from './errors.ts';

const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** distribution caps a repository name at 255 characters. */
export const MAX_NAME_LENGTH = 255;

export type DigestAlgorithm = 'sha256' | 'sha512';
const ENCODED_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME_RE.test(name);
}

export function validateName(name: string): string {
  if (name.length > MAX_NAME_LENGTH) throw new NameInvalidError(name, `repository name must not exceed ${MAX_NAME_LENGTH} characters`);
  if (!NAME_RE.test(name)) throw new NameInvalidError(name);
  return name;
}

export function isTag(reference: string): boolean {
  return TAG_RE.test(reference);
}

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
  digest: string;
}

/** Parse a digest string; unsupported algorithms and malformed encodings are DigestInvalidError. */
export function parseDigest(digest: string): ParsedDigest {
  if (!DIGEST_RE.test(digest)) throw new DigestInvalidError('invalid digest', { digest });
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw new DigestInvalidError(`unsupported digest algorithm ${algorithm}`, { digest });
  }
  if (hex.length !== ENCODED_LENGTH[algorithm] || !/^[a-f0-9]+$/.test(hex)) {
    throw new DigestInvalidError(`invalid ${algorithm} digest encoding`, { digest });
  }
  return { algorithm, hex, digest };
}

export function isDigest(reference: string): boolean {
  return reference.includes(':');
}

export type Reference = { kind: 'tag'; tag: string } | { kind: 'digest'; digest: string };

/** Whether parseReference accepts `reference`: a tag, or a digest of a supported algorithm. */
export function isReference(reference: string): boolean {
  if (!isDigest(reference)) return isTag(reference);
  try {
    parseDigest(reference);
    return true;
  } catch {
    return false;
  }
}

/** A manifest reference: a tag or a digest. */
export function parseReference(reference: string): Reference {
  if (isDigest(reference)) {
    try {
      return { kind: 'digest', digest: parseDigest(reference).digest };
    } catch {
      throw new ReferenceInvalidError(reference);
    }
  }
  if (!isTag(reference)) throw new ReferenceInvalidError(reference);
  return { kind: 'tag', tag: reference };
}
