/**
 * Parsing and validation of manifest documents (OCI image manifest and index, Docker schema2
 * manifest and manifest list), pure: no storage, no HTTP. What it returns is what the manifest
 * service needs to check references and to index the manifest.
 */
import { z } from 'zod';
import { ManifestInvalidError } from './errors.ts';
import {
  DOCKER_SCHEMA1,
  DOCKER_SCHEMA1_SIGNED,
  IMAGE_MANIFEST_TYPES,
  isForeignLayer,
  isManifestMediaType,
  OCI_INDEX,
  OCI_MANIFEST,
} from './media-types.ts';
import { parseDigest } from './reference.ts';

const digestString = z.string().refine(
  (d) => {
    try {
      parseDigest(d);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'invalid digest' },
);

/** A media type (RFC 6838 has no control characters in one; PostgreSQL cannot even store NUL). */
const mediaTypeString = z.string().refine((s) => ![...s].some((c) => c < ' ' || c === '\u007f'), 'must not hold control characters');

const platformSchema = z.object({
  architecture: z.string(),
  os: z.string(),
  'os.version': z.string().optional(),
  'os.features': z.array(z.string()).optional(),
  variant: z.string().optional(),
});

export type Platform = z.infer<typeof platformSchema>;

const descriptorSchema = z.object({
  mediaType: mediaTypeString.min(1),
  digest: digestString,
  size: z.number().int().nonnegative(),
  urls: z.array(z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  artifactType: mediaTypeString.optional(),
  platform: platformSchema.optional(),
});

export type Descriptor = z.infer<typeof descriptorSchema>;

const imageManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: mediaTypeString.optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
  subject: descriptorSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

const indexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: mediaTypeString.optional(),
  manifests: z.array(descriptorSchema),
  subject: descriptorSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export interface ParsedManifest {
  mediaType: string;
  kind: 'image' | 'index';
  artifactType: string | null;
  subject: Descriptor | null;
  /** Blobs the registry must hold (config and distributable layers). */
  blobs: Descriptor[];
  /** Child manifests (index entries). */
  children: Descriptor[];
  /** An image manifest's config, null for an index. */
  config: Descriptor | null;
  /** An image manifest's layers as written, foreign ones included; [] for an index. */
  layers: Descriptor[];
  annotations: Record<string, string> | null;
}

/** Media type from the Content-Type header, without parameters. */
function bareType(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const t = contentType.split(';')[0]?.trim().toLowerCase();
  return t === '' ? undefined : t;
}

/** The deepest nesting of arrays and objects a manifest may have: real ones nest five levels at most. */
export const MAX_MANIFEST_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * Refuse a document nested deeper than `limit` arrays and objects, before anything parses it:
 * one pass over the bytes counting brackets outside strings, so no input makes it recurse
 * (JSON.stringify of such a value overflows the stack). Bytes of multi-byte UTF-8 characters are
 * all >= 0x80, so they are never taken for brackets, quotes or backslashes. Whether the brackets
 * balance is left to JSON.parse.
 */
export function checkNesting(content: Buffer, limit = MAX_MANIFEST_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < content.length; i++) {
    const byte = content[i] as number;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > limit) throw new ManifestInvalidError(`manifest nests arrays and objects deeper than ${limit} levels`, { limit });
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      depth--;
    }
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

export function parseManifest(content: Buffer, contentType: string | undefined): ParsedManifest {
  checkNesting(content);
  let doc: unknown;
  try {
    doc = JSON.parse(content.toString('utf8'));
  } catch {
    throw new ManifestInvalidError('manifest is not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ManifestInvalidError('manifest must be a JSON object');
  const record = doc as Record<string, unknown>;
  const declared = typeof record['mediaType'] === 'string' ? record['mediaType'] : undefined;
  const header = bareType(contentType);
  const mediaType = declared ?? (header && header !== 'application/json' ? header : undefined) ?? guessType(record);
  if (declared !== undefined && header !== undefined && header !== declared && header !== 'application/json') {
    throw new ManifestInvalidError(`Content-Type ${header} does not match the manifest's mediaType ${declared}`);
  }
  if (mediaType === DOCKER_SCHEMA1 || mediaType === DOCKER_SCHEMA1_SIGNED || record['schemaVersion'] === 1) {
    throw new ManifestInvalidError('Docker schema1 manifests are not supported; push schema2 or OCI');
  }
  if (!isManifestMediaType(mediaType)) throw new ManifestInvalidError(`unsupported manifest media type ${mediaType}`);

  if (IMAGE_MANIFEST_TYPES.has(mediaType)) {
    const parsed = imageManifestSchema.safeParse(doc);
    if (!parsed.success) throw new ManifestInvalidError(`invalid image manifest: ${describeIssues(parsed.error)}`);
    const m = parsed.data;
    if (m.artifactType !== undefined && m.artifactType === '') throw new ManifestInvalidError('artifactType must not be empty');
    const blobs = [m.config, ...m.layers.filter((l) => !(isForeignLayer(l.mediaType) && l.urls && l.urls.length > 0))];
    return {
      mediaType,
      kind: 'image',
      artifactType: m.artifactType ?? m.config.mediaType,
      subject: m.subject ?? null,
      blobs,
      children: [],
      config: m.config,
      layers: m.layers,
      annotations: m.annotations ?? null,
    };
  }
  const parsed = indexSchema.safeParse(doc);
  if (!parsed.success) throw new ManifestInvalidError(`invalid index: ${describeIssues(parsed.error)}`);
  const ix = parsed.data;
  return {
    mediaType,
    kind: 'index',
    artifactType: ix.artifactType ?? null,
    subject: ix.subject ?? null,
    blobs: [],
    children: ix.manifests,
    config: null,
    layers: [],
    annotations: ix.annotations ?? null,
  };
}

/** OCI lets mediaType be omitted: tell an index from an image manifest by its fields. */
function guessType(doc: Record<string, unknown>): string {
  if (Array.isArray(doc['manifests'])) return OCI_INDEX;
  if (doc['config'] !== undefined) return OCI_MANIFEST;
  throw new ManifestInvalidError('manifest has no mediaType and is neither an image manifest nor an index');
}
